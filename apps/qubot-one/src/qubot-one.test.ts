import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, NO_FAULTS, type QubotOneConfig, resolveArtifactPath } from './config';
import { createQubotOne, type QubotOneServer } from './server';

const here = dirname(fileURLToPath(import.meta.url));
const mainPath = join(here, 'main.ts');
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const baseConfig = (over: Partial<QubotOneConfig> = {}): QubotOneConfig => ({
  version: '1.2.0',
  host: '127.0.0.1',
  port: 0,
  pool: 'blue',
  instanceId: 'i-1',
  artifact: null,
  faults: { ...NO_FAULTS },
  shutdownTimeoutMs: 5_000,
  ...over,
});

const servers: QubotOneServer[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown()));
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

async function start(config: QubotOneConfig, random?: () => number) {
  const app = createQubotOne(config, random ? { random } : {});
  servers.push(app);
  const port = await app.listen();
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('config and artifacts', () => {
  it('maps artifact refs to build manifests and applies their faults', () => {
    expect(loadConfig(['--artifact', 'qubot-one/faulty-5xx-30'], {}).faults.errorRate).toBe(0.3);
    expect(loadConfig(['--artifact', 'qubot-one/healthy'], {}).faults).toEqual(NO_FAULTS);
    expect(loadConfig(['--artifact', 'never-healthy'], {}).faults.neverHealthy).toBe(true);
    expect(loadConfig(['--artifact', 'qubot-one/slow'], {}).faults.latencyMs).toBe(200);
    expect(loadConfig(['--artifact', 'qubot-one/fail-start'], {}).faults.failStart).toBe(true);
  });

  it('rejects path traversal and unknown artifacts', () => {
    for (const ref of [
      '../package',
      'qubot-one/../../package',
      '/etc/passwd',
      'qubot-one/a/b',
      'qubot-one/..',
      '-rf',
      '',
    ]) {
      expect(() => resolveArtifactPath(ref), ref).toThrow(/invalid artifact/);
    }
    expect(() => loadConfig(['--artifact', 'qubot-one/nope'], {})).toThrow(/unknown artifact/);
  });

  it('lets environment variables override the artifact, and flags override the environment', () => {
    const config = loadConfig(
      ['--artifact', 'qubot-one/faulty-5xx-30', '--port', '4321', '--version', '2.0.0'],
      {
        QUBOT_FAULT_ERROR_RATE: '0',
        QUBOT_FAULT_LATENCY_MS: '15',
        QUBOT_FAULT_CRASH_AFTER_S: '5',
        QUBOT_VERSION: '1.0.0',
        PORT: '1234',
        QUBOT_POOL: 'green',
        QUBOT_INSTANCE_ID: 'abc',
      },
    );
    expect(config).toMatchObject({ port: 4321, version: '2.0.0', pool: 'green', instanceId: 'abc' });
    expect(config.faults).toMatchObject({ errorRate: 0, latencyMs: 15, crashAfterS: 5 });
    expect(() => loadConfig([], { QUBOT_FAULT_ERROR_RATE: '1.5' })).toThrow(/between 0 and 1/);
    expect(() => loadConfig([], { QUBOT_VERSION: '1.0; rm -rf /' })).toThrow(/invalid version/);
  });
});

describe('server', () => {
  it('reports service, version, pool and instance in body and header', async () => {
    const { url } = await start(baseConfig());
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-qubot-version')).toBe('1.2.0');
    expect(await res.json()).toMatchObject({
      service: 'qubot-one',
      version: '1.2.0',
      pool: 'blue',
      instanceId: 'i-1',
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-qubot-version')).toBe('1.2.0');
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('x-qubot-version')).toBe('1.2.0');
    const text = await metrics.text();
    expect(text).toMatch(/qubot_one_http_requests_total\{[^}]*route="\/"[^}]*status="200"[^}]*\} 1/);
    expect(text).toContain('qubot_one_info{version="1.2.0"');
    expect((await fetch(`${url}/missing`)).status).toBe(404);
  });

  it('answers 5xx for the configured fraction of requests', async () => {
    // A deterministic sequence 0, 0.1, …, 0.9: exactly 3 of every 10 draws fall under 0.3.
    let i = 0;
    const { url } = await start(
      baseConfig({ faults: { ...NO_FAULTS, errorRate: 0.3 } }),
      () => (i++ % 10) / 10,
    );
    const statuses: number[] = [];
    for (let n = 0; n < 100; n++) {
      const res = await fetch(`${url}/`);
      statuses.push(res.status);
      expect(res.headers.get('x-qubot-version')).toBe('1.2.0');
      await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(30);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('never becomes healthy with the never-healthy fault', async () => {
    const { url } = await start(baseConfig({ faults: { ...NO_FAULTS, neverHealthy: true } }));
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    expect((await fetch(`${url}/`)).status).toBe(200);
  });

  it('adds latency with the latency fault', async () => {
    const { url } = await start(baseConfig({ faults: { ...NO_FAULTS, latencyMs: 150 } }));
    const t0 = performance.now();
    await (await fetch(`${url}/`)).arrayBuffer();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it('finishes in-flight requests on shutdown and refuses new connections', async () => {
    const { app, url } = await start(baseConfig({ faults: { ...NO_FAULTS, latencyMs: 300 } }));
    const inflight = fetch(`${url}/`);
    await expect.poll(() => app.inFlight).toBe(1);
    const stopped = app.shutdown();
    const res = await inflight;
    expect(res.status).toBe(200);
    await stopped;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', tsx, mainPath, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = /"msg":"listening".*?"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`exited before listening: ${out}`)));
  });
  listening.catch(() => {});
  return { child, exited, listening, output: () => out };
}

describe('process', () => {
  it('exits non-zero at start-up with QUBOT_FAULT_FAIL_START=1', async () => {
    const p = run(['--port', '0'], { QUBOT_FAULT_FAIL_START: '1' });
    const [code] = await p.exited;
    expect(code).not.toBe(0);
    expect(p.output()).toContain('failing at start-up');
  });

  it('exits non-zero for a bad artifact reference', async () => {
    const p = run(['--port', '0', '--artifact', '../../etc/passwd'], {});
    const [code] = await p.exited;
    expect(code).toBe(2);
  });

  it('crashes after N seconds, and drains gracefully on SIGTERM', async () => {
    const crashing = run(['--port', '0', '--artifact', 'qubot-one/healthy'], {
      QUBOT_FAULT_CRASH_AFTER_S: '0.5',
    });
    const graceful = run(['--port', '0', '--version', '9.9.9'], { QUBOT_FAULT_LATENCY_MS: '400' });
    const port = await graceful.listening;
    const inflight = fetch(`http://127.0.0.1:${port}/`);
    await expect
      .poll(
        async () =>
          ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { inFlight: number }).inFlight,
      )
      .toBe(1);
    graceful.child.kill('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: '9.9.9' });
    expect((await graceful.exited)[0]).toBe(0);

    const [code] = await crashing.exited;
    expect(code).toBe(70);
    expect(crashing.output()).toContain('crashing after 0.5s');
  });
});
