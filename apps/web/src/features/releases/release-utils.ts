import type { Release } from '@qubot/api-contract';

export interface TestResultsView {
  passed: number;
  failed: number;
  skipped: number;
  url: string | null;
  ok: boolean;
  label: string;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/** `testResults` is free-form in storage; the create route accepts `{ passed, failed, skipped?, url? }`. */
export function parseTestResults(value: unknown): TestResultsView | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.passed !== 'number' && typeof v.failed !== 'number') return null;
  const passed = count(v.passed);
  const failed = count(v.failed);
  const skipped = count(v.skipped);
  const url = typeof v.url === 'string' && /^https?:\/\//i.test(v.url) ? v.url : null;
  const parts = [`${passed} passed`, `${failed} failed`];
  if (skipped) parts.push(`${skipped} skipped`);
  return { passed, failed, skipped, url, ok: failed === 0, label: parts.join(', ') };
}

/** Only http(s) links are rendered as links: a stored `javascript:` URL must never become clickable. */
export function safeHttpUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Environments where the release is live, in the order given. */
export function liveIn(release: Pick<Release, 'deployedTo'>): string[] {
  return release.deployedTo.filter((d) => d.live).map((d) => d.environment);
}

export type MatrixCell = { kind: 'live' } | { kind: 'status'; status: string } | { kind: 'never' };

/** One cell of the releases × environments matrix: live there, its last result there, or never. */
export function matrixCell(release: Pick<Release, 'deployedTo'>, env: string): MatrixCell {
  const entry = release.deployedTo.find((d) => d.environment === env);
  if (!entry) return { kind: 'never' };
  if (entry.live) return { kind: 'live' };
  return entry.lastStatus ? { kind: 'status', status: entry.lastStatus } : { kind: 'never' };
}
