/** Figures for one pool over a time window, plus totals since the last reset. */
export interface PoolWindowStats {
  pool: string;
  version: string | null;
  windowMs: number;
  requests: number;
  errors: number;
  /** errors / requests, 0 when there were no requests. */
  errorRate: number;
  /** Latency percentiles in milliseconds over the window; null without requests. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  inFlight: number;
  totals: { requests: number; errors: number; retries: number };
  /** When the window samples were last cleared (reset or new version), ISO time. */
  since: string;
}

/**
 * A ring buffer of recent samples (time, latency, error) for one pool. Bounded memory; a window
 * longer than what the ring holds under heavy traffic reports what is left (newest samples).
 */
export class PoolStats {
  private readonly at: Float64Array;
  private readonly latency: Float64Array;
  private readonly error: Uint8Array;
  private next = 0;
  private size = 0;
  totalRequests = 0;
  totalErrors = 0;
  totalRetries = 0;
  inFlight = 0;
  since: number;

  constructor(
    readonly pool: string,
    public version: string | null,
    private readonly now: () => number = Date.now,
    capacity = 100_000,
  ) {
    this.at = new Float64Array(capacity);
    this.latency = new Float64Array(capacity);
    this.error = new Uint8Array(capacity);
    this.since = now();
  }

  record(latencyMs: number, isError: boolean): void {
    const cap = this.at.length;
    this.at[this.next] = this.now();
    this.latency[this.next] = latencyMs;
    this.error[this.next] = isError ? 1 : 0;
    this.next = (this.next + 1) % cap;
    this.size = Math.min(this.size + 1, cap);
    this.totalRequests++;
    if (isError) this.totalErrors++;
  }

  reset(): void {
    this.next = 0;
    this.size = 0;
    this.totalRequests = 0;
    this.totalErrors = 0;
    this.totalRetries = 0;
    this.since = this.now();
  }

  window(windowMs: number): PoolWindowStats {
    const cap = this.at.length;
    const from = this.now() - windowMs;
    const lat: number[] = [];
    let errors = 0;
    for (let k = 1; k <= this.size; k++) {
      const i = (this.next - k + cap) % cap;
      if ((this.at[i] as number) < from) break;
      lat.push(this.latency[i] as number);
      errors += this.error[i] as number;
    }
    const sorted = Float64Array.from(lat).sort();
    const q = (p: number) =>
      sorted.length === 0
        ? null
        : round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number);
    return {
      pool: this.pool,
      version: this.version,
      windowMs,
      requests: lat.length,
      errors,
      errorRate: lat.length === 0 ? 0 : errors / lat.length,
      p50: q(0.5),
      p95: q(0.95),
      p99: q(0.99),
      inFlight: this.inFlight,
      totals: { requests: this.totalRequests, errors: this.totalErrors, retries: this.totalRetries },
      since: new Date(this.since).toISOString(),
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Upper bounds (seconds) of `qubot_router_request_duration_seconds`. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Prometheus counters for one (pool, version): plain numbers bumped per request, turned into
 * exposition values only when scraped (no label hashing on the request path).
 */
export class PoolMetrics {
  /** By status class: index 1 → 1xx … 5 → 5xx. */
  readonly codes = new Float64Array(10);
  err5xx = 0;
  errProxy = 0;
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(
    readonly pool: string,
    readonly version: string,
  ) {}

  record(status: number, seconds: number, proxyError: boolean): void {
    const cls = Math.min(9, Math.floor(status / 100));
    this.codes[cls] = (this.codes[cls] as number) + 1;
    if (proxyError) this.errProxy++;
    else if (status >= 500) this.err5xx++;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[b] as number)) b++;
    this.buckets[b] = (this.buckets[b] as number) + 1;
    this.sum += seconds;
    this.count++;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric whose values are computed at scrape time; registered with `Registry.registerMetric`. */
export class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly values: () => MetricValue[],
  ) {}

  get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(),
    };
  }

  reset(): void {}
}

/** The router's request metrics, read from the per-(pool, version) counters at scrape time. */
export function requestMetrics(all: () => Iterable<PoolMetrics>, retries: () => Map<string, number>) {
  const requests = new ScrapedMetric(
    'qubot_router_requests_total',
    'Requests answered by the traffic router, by pool, version and status class',
    'counter',
    () => {
      const out: MetricValue[] = [];
      for (const m of all())
        m.codes.forEach((n, cls) => {
          if (n > 0) out.push({ labels: { pool: m.pool, version: m.version, code: `${cls}xx` }, value: n });
        });
      return out;
    },
  );
  const errors = new ScrapedMetric(
    'qubot_router_errors_total',
    'Failed requests by pool: 5xx from the upstream, or a proxy error',
    'counter',
    () => {
      const out: MetricValue[] = [];
      for (const m of all()) {
        if (m.err5xx > 0)
          out.push({ labels: { pool: m.pool, version: m.version, kind: '5xx' }, value: m.err5xx });
        if (m.errProxy > 0)
          out.push({ labels: { pool: m.pool, version: m.version, kind: 'proxy' }, value: m.errProxy });
      }
      return out;
    },
  );
  const retried = new ScrapedMetric(
    'qubot_router_retries_total',
    'Requests retried on another target after a connection failure',
    'counter',
    () => [...retries()].map(([pool, value]) => ({ labels: { pool }, value })),
  );
  const name = 'qubot_router_request_duration_seconds';
  const duration = new ScrapedMetric(name, 'Request latency through the router', 'histogram', () => {
    const out: MetricValue[] = [];
    for (const m of all()) {
      if (m.count === 0) continue;
      const labels = { pool: m.pool, version: m.version };
      let acc = 0;
      for (let b = 0; b <= LATENCY_BUCKETS.length; b++) {
        acc += m.buckets[b] as number;
        const le = b < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[b]) : '+Inf';
        out.push({ labels: { le, ...labels }, value: acc, metricName: `${name}_bucket` });
      }
      out.push({ labels, value: m.sum, metricName: `${name}_sum` });
      out.push({ labels, value: m.count, metricName: `${name}_count` });
    }
    return out;
  });
  return [requests, errors, retried, duration];
}
