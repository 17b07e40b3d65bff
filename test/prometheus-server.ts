// A real Prometheus (Debian's package) for tests, on loopback: scrapes the control plane's
// /metrics and finds the routers and instances through its http_sd endpoint with a viewer token.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@qubot/runtime/proc';
import { PROMETHEUS } from './prometheus-text.ts';

export type Vector = { metric: Record<string, string>; value: [number, string] }[];

export interface TestPrometheus {
  url: string;
  query(promql: string): Promise<Vector>;
  /** The first series' value, or null when the vector is empty. */
  scalar(promql: string): Promise<number | null>;
  /** Until `promql`'s first value is `want` (Prometheus scrapes on its own clock: polled, bounded). */
  until(promql: string, want: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  /** The control plane's port on 127.0.0.1. */
  apiPort: number;
  /** A viewer API token for http_sd. */
  viewerToken: string;
  ruleFiles?: string[];
}): Promise<TestPrometheus> {
  if (!existsSync(PROMETHEUS))
    throw new Error(`${PROMETHEUS} is missing: apt-get install -y prometheus (npm test installs it as root)`);
  const dir = mkdtempSync(join(tmpdir(), 'qubot-prom-'));
  writeFileSync(join(dir, 'viewer-token'), opts.viewerToken, { mode: 0o600 });
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      ...(opts.ruleFiles ? [`rule_files: [${opts.ruleFiles.map((f) => `"${f}"`).join(', ')}]`] : []),
      'scrape_configs:',
      '  - job_name: qubot-control-plane',
      `    static_configs: [{ targets: ["127.0.0.1:${opts.apiPort}"] }]`,
      '  - job_name: qubot-runtime',
      '    http_sd_configs:',
      `      - url: http://127.0.0.1:${opts.apiPort}/api/v1/prometheus/targets`,
      '        refresh_interval: 1s',
      // `type: Bearer` spelled out: Prometheus 2.42's http_sd sends the bare token without it.
      `        authorization: { type: Bearer, credentials_file: ${join(dir, 'viewer-token')} }`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Prometheus logs this line once its HTTP API answers.
  let log = '';
  try {
    await new Promise<void>((resolve, reject) => {
      proc.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready to receive web requests')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`prometheus exited (${code}): ${log.slice(-2000)}`)));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  async function query(promql: string): Promise<Vector> {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: Vector }; error?: string };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data.result;
  }
  const scalar = async (promql: string) => {
    const r = await query(promql);
    return r.length ? Number(r[0]?.value[1]) : null;
  };
  async function until(promql: string, want: number, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let last: number | null = null;
    while (Date.now() < deadline) {
      last = await scalar(promql).catch(() => null);
      if (last === want) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${promql} is ${last}, not ${want}, after ${timeoutMs / 1000}s`);
  }
  return { url, query, scalar, until, stop };
}
