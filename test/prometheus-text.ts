// Test helpers for Prometheus text: parse samples, and run `promtool check metrics` on them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PROMTOOL = process.env.QUBOT_PROMTOOL ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env.QUBOT_PROMETHEUS ?? '/usr/bin/prometheus';

/** `name{a="x",b="y"}` → value, labels sorted by name; HELP/TYPE lines skipped. */
export function parseSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => [k as string, v as string] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    out.set(sampleKey(m[1] as string, Object.fromEntries(labels)), Number(m[3]));
  }
  return out;
}

export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const l = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return l ? `${name}{${l}}` : name;
}

/** `promtool check metrics` on `text`: its exit code and everything it printed (warnings included). */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  if (!existsSync(PROMTOOL))
    throw new Error(`${PROMTOOL} is missing: apt-get install -y prometheus (npm test installs it as root)`);
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
