// Bounded load on loopback for the deployment tests: `concurrency` sequential loops of GET
// requests against an environment's address, at most `rps` requests a second in total,
// counting statuses, failures and the version that answered each request. Stop it to get
// the figures; the loops end within one request.

export interface Sample {
  /** Client clock when the request was sent (ms since the load started). */
  at: number;
  loop: number;
  status: number | null;
  version: string | null;
  error: string | null;
}

export interface LoadReport {
  requests: number;
  ok: number;
  /** 5xx answers and requests that got no answer at all. */
  failed: number;
  errors: string[];
  /** Requests per version that answered. */
  versions: Record<string, number>;
  durationMs: number;
  rps: number;
  samples: Sample[];
}

export interface Load {
  /** Figures so far (the load keeps running). */
  snapshot(): LoadReport;
  /** Samples from now on: `mark()` then `since(mark)`. */
  mark(): number;
  since(mark: number): LoadReport;
  stop(): Promise<LoadReport>;
}

function report(samples: Sample[], durationMs: number): LoadReport {
  const versions: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  for (const s of samples) {
    if (s.version) versions[s.version] = (versions[s.version] ?? 0) + 1;
    if (s.status !== null && s.status < 500) ok++;
    else {
      failed++;
      if (errors.length < 20) errors.push(s.error ?? `HTTP ${s.status}`);
    }
  }
  return {
    requests: samples.length,
    ok,
    failed,
    errors,
    versions,
    durationMs,
    rps: durationMs > 0 ? Math.round((samples.length * 1000) / durationMs) : 0,
    samples,
  };
}

export function startLoad(
  address: string,
  opts: { rps?: number; concurrency?: number; path?: string } = {},
): Load {
  const rps = opts.rps ?? 300;
  const concurrency = opts.concurrency ?? 6;
  const url = `${address.replace(/\/$/, '')}${opts.path ?? '/'}`;
  const perLoopMs = (concurrency * 1000) / rps;
  const t0 = performance.now();
  const samples: Sample[] = [];
  let stopping = false;

  const loop = async (n: number) => {
    while (!stopping) {
      const started = performance.now();
      const sample: Sample = { at: started - t0, loop: n, status: null, version: null, error: null };
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        sample.status = res.status;
        sample.version = res.headers.get('x-qubot-version');
        await res.arrayBuffer();
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        sample.error = e.cause?.code ?? e.message;
      }
      samples.push(sample);
      const wait = perLoopMs - (performance.now() - started);
      if (wait > 0 && !stopping) await new Promise((r) => setTimeout(r, wait));
    }
  };
  const loops = Array.from({ length: concurrency }, (_, n) => loop(n));
  return {
    snapshot: () => report([...samples], performance.now() - t0),
    mark: () => samples.length,
    since: (mark) => {
      const part = samples.slice(mark);
      const first = part[0]?.at ?? 0;
      return report(part, (part[part.length - 1]?.at ?? first) - first);
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return report(samples, performance.now() - t0);
    },
  };
}

/** Versions each loop saw, in order, with repeats collapsed: ['1.0.0', '1.1.0'] = one clean change. */
export function versionRuns(samples: Sample[]): string[][] {
  const loops = new Map<number, string[]>();
  for (const s of samples) {
    if (!s.version) continue;
    const runs = loops.get(s.loop) ?? [];
    if (runs[runs.length - 1] !== s.version) runs.push(s.version);
    loops.set(s.loop, runs);
  }
  return [...loops.values()];
}
