import type { MetricsSample } from '@qubot/api-contract';

/** How far back the card's figures look. */
export const CARD_HEALTH_WINDOW_MS = 60_000;
/** Above this error rate the card turns red, whatever the instances' health checks say. */
export const CARD_ERROR_RATE_ALARM = 0.05;

export interface LiveHealth {
  requests: number;
  errors: number;
  /** errors / requests, null without requests. */
  errorRate: number | null;
  /** The highest interval p95 in the window (the worst few seconds), null without requests. */
  p95Ms: number | null;
  tone: 'ok' | 'bad' | 'muted';
  text: string;
}

const pct = (v: number) => `${Math.round(v * 1000) / 10} %`;

/**
 * The live version's error rate and p95 latency over the last minute, from the router's samples:
 * the pools serving `liveVersion` (both colours during a rollout of another version are counted
 * apart — only the live version's). `now` is passed in so the figures are testable.
 */
export function liveHealth(
  samples: readonly MetricsSample[],
  liveVersion: string | null,
  now: number,
  windowMs = CARD_HEALTH_WINDOW_MS,
): LiveHealth {
  let requests = 0;
  let errors = 0;
  let p95: number | null = null;
  if (liveVersion) {
    for (const s of samples) {
      if (Date.parse(s.at) <= now - windowMs) continue;
      for (const p of s.pools) {
        if (p.version !== liveVersion) continue;
        requests += p.requests;
        errors += p.errors;
        if (p.requests > 0 && p.p95Ms !== null) p95 = Math.max(p95 ?? 0, p.p95Ms);
      }
    }
  }
  if (requests === 0) {
    return {
      requests,
      errors,
      errorRate: null,
      p95Ms: null,
      tone: 'muted',
      text: 'no traffic in the last minute',
    };
  }
  const errorRate = errors / requests;
  const latency = p95 === null ? '' : ` · p95 ${Math.round(p95)} ms`;
  return {
    requests,
    errors,
    errorRate,
    p95Ms: p95,
    tone: errorRate > CARD_ERROR_RATE_ALARM ? 'bad' : 'ok',
    text: `${pct(errorRate)} errors${latency}`,
  };
}
