// Router overhead: the same Qubot-One instance measured directly and through
// the traffic router, in one run, so the comparison is against a baseline
// taken on the same machine at the same time.
//
//   node --import tsx bench/router-overhead.ts [--seconds 10] [--concurrency 16]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, LocalDriver, startRouter, stopRouter } from '@qubot/runtime';
import { fmt, runLoad } from './load.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' } },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const root = resolve(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-router-'));
const driver = new LocalDriver({ dataDir, workspaceDir: root });

const inst = await driver.start({
  instanceId: 'bench-1',
  environment: 'bench',
  version: '1.0.0',
  artifact: 'qubot-one/healthy',
  pool: 'blue',
  launcher: {
    command:
      'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --version {version} --pool {pool}',
    cwd: '.',
  },
});
let router: Awaited<ReturnType<typeof startRouter>> | undefined;
try {
  const health = await driver.waitHealthy([inst], 30_000);
  if (!health.ok) throw new Error('instance did not become healthy');
  router = await startRouter({
    port: await freePort(),
    controlPort: await freePort(),
    secret: randomBytes(24).toString('hex'),
    stateFile: join(dataDir, 'router.json'),
    logFile: join(dataDir, 'router.log'),
  });
  await router.client.setConfig({
    pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: [inst.target] }],
  });

  const direct = `${inst.url}/`;
  const routed = `${router.address}/`;
  // Warm both paths (JIT, keep-alive pools) before measuring.
  await runLoad({ url: direct, durationMs: 1000, concurrency });
  await runLoad({ url: routed, durationMs: 1000, concurrency });
  const a = await runLoad({ url: direct, durationMs: seconds * 1000, concurrency });
  const b = await runLoad({ url: routed, durationMs: seconds * 1000, concurrency });

  const row = (name: string, r: typeof a) =>
    `| ${name} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.requests} | ${r.failed} |`;
  console.log(
    `\nRouter overhead — ${seconds}s per path, concurrency ${concurrency}, one Qubot-One instance, loopback\n`,
  );
  console.log('| path | req/s | p50 ms | p99 ms | requests | failed |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(row('direct (baseline)', a));
  console.log(row('through router', b));
  console.log(
    `\nthroughput through the router: ${fmt((b.rps / a.rps) * 100, 1)} % of direct; ` +
      `added latency p50 +${fmt(b.p50 - a.p50)} ms, p99 +${fmt(b.p99 - a.p99)} ms`,
  );
  console.log(
    `reproduce: node --import tsx bench/router-overhead.ts --seconds ${seconds} --concurrency ${concurrency}`,
  );
  if (a.failed || b.failed) process.exitCode = 1;
} finally {
  if (router) await stopRouter(router.pid);
  await driver.stopAll('bench');
  rmSync(dataDir, { recursive: true, force: true });
}
