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
