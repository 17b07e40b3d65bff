// Race harness: N rounds of concurrent, conflicting actions on one environment (deploy, promote,
// rollback, traffic switch, then abort/rollback of the deployment that won) while a steady load
// goes through the environment's address. Each round prints how many actions won, how many user
// requests failed, and whether the environment the API reports is what the router serves.
//
//   node --import tsx bench/race.ts [--rounds 8] [--rate 200] [--concurrency 16] [--env staging]
//
// The API runs as in production: `apps/api/src/main.ts --demo` in a child process on an embedded
// PostgreSQL in a temporary directory, real Qubot-One processes behind the environment's router.
// The bench fails (exit 1) on any round with more than one winner, any failed user request or
// any difference between the reported and the served state.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeEmbeddedData } from '@qubot/db';
import { Agent, request } from 'undici';
import { apiSession, startControlPlane } from './control-plane.ts';
import { fmt, runLoad } from './load.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '8' },
    rate: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    env: { type: 'string', default: 'staging' },
  },
});
const rounds = Number(values.rounds);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const ENV = values.env ?? 'staging';
const APP = 'qubot-one';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];
const VERSIONS = ['1.0.0', '1.1.0', '1.2.0'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Deployment {
  id: string;
  status: string;
  waitingFor: string | null;
}

function startServer(dataDir: string, logFile: string) {
  return startControlPlane({ dataDir, logFile, readyTimeoutMs: 120_000 });
}

function apiClient(base: string) {
  const session = apiSession(base);
  return { ...session, environment: (name: string) => session.environment(APP, name) };
}
type Api = ReturnType<typeof apiClient>;

async function until(api: Api, id: string, done: (d: Deployment) => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await api.deployment(id);
    if (done(d)) return d;
    if (Date.now() > deadline) throw new Error(`deployment ${id} stuck at ${d.status}/${d.waitingFor}`);
    await sleep(150);
  }
}

/** No deployment active in `env` (finished ones may still be scaling their old colour down). */
async function idle(api: Api, env: string, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await api.environment(env);
    if (!e.activeDeployment && e.live) return e;
    if (Date.now() > deadline) throw new Error(`${env} is not idle: ${JSON.stringify(e.activeDeployment)}`);
    await sleep(200);
  }
}

/** The router's real behaviour: the versions that answer through the address. */
async function servedVersions(address: string, n = 60) {
  const agent = new Agent({ connections: 4 });
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const res = await request(`${address}/`, { dispatcher: agent });
    await res.body.dump();
    const v = res.headers['x-qubot-version'];
    const key = res.statusCode >= 500 ? `HTTP ${res.statusCode}` : typeof v === 'string' ? v : 'none';
    seen[key] = (seen[key] ?? 0) + 1;
  }
  await agent.close();
  return seen;
}

interface Round {
  n: number;
  creators: Record<string, number>;
  creatorWinners: number;
  trafficOk: number;
  trafficRefused: number;
  controlWinners: number;
  controlTried: number;
  otherStatuses: string[];
  requests: number;
  failed: number;
  reported: string;
  served: string;
  consistent: boolean;
}

async function round(api: Api, n: number, address: string): Promise<Round> {
  const before = await idle(api, ENV);
  const other = before.activeColor === 'blue' ? 'green' : 'blue';
  const live = before.live?.version;
  const candidates = VERSIONS.filter((v) => v !== live);
  const blueGreen = { autoSwitch: n % 2 === 1, healthTimeoutSeconds: 30, rollbackWindowSeconds: 600 };
  const base = `/apps/${APP}/environments/${ENV}`;
  const ac = new AbortController();
  const load = runLoad({ url: `${address}/`, signal: ac.signal, concurrency, rate });
  await sleep(500);

  // Phase A: everything that can change the environment at once. At most one deployment may be
  // created; a traffic switch either goes first (200) or meets that deployment (409).
  type Call = () => Promise<{ status: number; json: unknown; text: string }>;
  const creations: [string, Call][] = [
    [
      'deploy',
      () =>
        api.call('POST', `${base}/deployments`, {
          version: candidates[0],
          strategy: 'blue-green',
          options: blueGreen,
          reason: 'race',
        }),
    ],
    [
      'deploy',
      () =>
        api.call('POST', `${base}/deployments`, {
          version: candidates[1],
          strategy: 'rolling',
          options: { healthTimeoutSeconds: 30 },
          reason: 'race',
        }),
    ],
    [
      'promote',
      () =>
        api.call('POST', `${base}/promote`, { strategy: 'blue-green', options: blueGreen, reason: 'race' }),
    ],
    ['rollback', () => api.call('POST', `${base}/rollback`, { reason: 'race' })],
  ];
  // A different request goes first each round, so each kind gets to win.
  for (let i = 0; i < n % creations.length; i++)
    creations.push(creations.shift() as (typeof creations)[number]);
  const sent = creations.map(([, call]) => call());
  const switches = Array.from({ length: 4 }, () =>
    api.call('POST', `${base}/traffic`, { activeColor: other, reason: 'race' }),
  );
  const created = await Promise.all(sent);
  const moved = await Promise.all(switches);
  const creators: Record<string, number> = {};
  const otherStatuses: string[] = [];
  let winner: string | null = null;
  created.forEach((r, i) => {
    const kind = creations[i]?.[0] ?? '?';
    if (r.status === 202) {
      creators[kind] = (creators[kind] ?? 0) + 1;
      winner = (r.json as { id: string }).id;
    } else if (r.status !== 409) otherStatuses.push(`${kind} ${r.status}: ${r.text.slice(0, 160)}`);
  });
  const creatorWinners = Object.values(creators).reduce((a, b) => a + b, 0);
  const trafficOk = moved.filter((r) => r.status === 200).length;
  const trafficRefused = moved.filter((r) => r.status === 409).length;
  for (const r of moved)
    if (r.status !== 200 && r.status !== 409)
      otherStatuses.push(`traffic ${r.status}: ${r.text.slice(0, 160)}`);

  // Phase B (odd rounds): once the winner runs, abort and roll it back at the same time: one wins.
  let controlWinners = 0;
  let controlTried = 0;
  if (winner) {
    const id: string = winner;
    if (n % 2 === 1) {
      await until(api, id, (d) => d.status !== 'pending');
      const controls = [
        api.call('POST', `/deployments/${id}/abort`, { reason: 'race' }),
        api.call('POST', `/deployments/${id}/abort`, { reason: 'race' }),
        api.call('POST', `${base}/rollback`, { reason: 'race' }),
        api.call('POST', `${base}/rollback`, { reason: 'race' }),
      ];
      const res = await Promise.all(controls);
      controlTried = res.length;
      controlWinners = res.filter((r) => r.status === 200 || r.status === 202).length;
      for (const r of res)
        if (![200, 202, 409].includes(r.status))
          otherStatuses.push(`control ${r.status}: ${r.text.slice(0, 160)}`);
    } else {
      // Even rounds: a blue-green waiting for its switch gets it through the traffic endpoint.
      const d = await until(api, id, (x) => FINAL.includes(x.status) || x.waitingFor === 'switch');
      if (d.waitingFor === 'switch') {
        const target = (await api.environment(ENV)).activeColor === 'blue' ? 'green' : 'blue';
        const res = await Promise.all(
          Array.from({ length: 3 }, () =>
            api.call('POST', `${base}/traffic`, { activeColor: target, reason: 'race' }),
          ),
        );
        controlTried = res.length;
        controlWinners = res.filter((r) => r.status === 202).length;
      }
    }
    await until(api, id, (d) => FINAL.includes(d.status));
  }
  const after = await idle(api, ENV);
  await sleep(500);
  ac.abort();
  const result = await load;
  const served = await servedVersions(address);
  const reported = after.live?.version ?? 'none';
  const consistent =
    Object.keys(served).length === 1 &&
    served[reported] !== undefined &&
    after.traffic.filter((t) => t.weight > 0).every((t) => t.pool === after.activeColor);
  return {
    n,
    creators,
    creatorWinners,
    trafficOk,
    trafficRefused,
    controlWinners,
    controlTried,
    otherStatuses,
    requests: result.requests,
    failed: result.failed,
    reported: `${reported} (${after.activeColor})`,
    served: Object.entries(served)
      .map(([v, c]) => `${v}×${c}`)
      .join(' '),
    consistent,
  };
}

async function main() {
  const loadBefore = loadavg();
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-bench-race-'));
  chmodSync(dataDir, 0o711);
  const logFile = join(dataDir, 'api.log');
  let server: ChildProcess | undefined;
  let ok = true;
  const results: Round[] = [];
  try {
    const s = await startServer(dataDir, logFile);
    server = s.child;
    const api = apiClient(s.base);
    await api.login('release-manager', 'demo-release-manager');
    // Every release through development first (the promotion order), then the race in ENV.
    await idle(api, 'development');
    for (const version of ['1.1.0', '1.2.0']) {
      const r = await api.call<Deployment>('POST', `/apps/${APP}/environments/development/deployments`, {
        version,
        strategy: 'blue-green',
        options: { autoSwitch: true, rollbackWindowSeconds: 0 },
      });
      if (r.status !== 202) throw new Error(`deploy ${version} to development: ${r.status} ${r.text}`);
      await until(api, r.json.id, (d) => FINAL.includes(d.status));
    }
    const env = await idle(api, ENV);
    if (!env.address) throw new Error(`${ENV} has no address`);
    console.log(`control plane up; racing on ${ENV} at ${env.address}, ${rounds} rounds, load ${rate} req/s`);
    for (let n = 1; n <= rounds; n++) {
      const r = await round(api, n, env.address);
      results.push(r);
      const bad = r.creatorWinners > 1 || r.failed > 0 || !r.consistent || r.otherStatuses.length > 0;
      const controlBad = r.controlTried > 0 && r.controlWinners !== 1;
      if (bad || controlBad) ok = false;
      console.log(
        `round ${n}: created ${r.creatorWinners} (${JSON.stringify(r.creators)}), traffic 200×${r.trafficOk} 409×${r.trafficRefused}, ` +
          `control winners ${r.controlWinners}/${r.controlTried}; ${r.requests} requests, ${r.failed} failed; ` +
          `API ${r.reported} · router ${r.served} → ${r.consistent ? 'same' : 'DIFFERENT'}`,
      );
      for (const o of r.otherStatuses) console.log(`  unexpected: ${o}`);
    }
  } catch (err) {
    ok = false;
    console.error(`race bench failed: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(40_000)]);
    }
  }
  const total = results.reduce((a, r) => a + r.requests, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  const multi = results.filter((r) => r.creatorWinners > 1).length;
  const controlBad = results.filter((r) => r.controlTried > 0 && r.controlWinners !== 1).length;
  const inconsistent = results.filter((r) => !r.consistent).length;
  console.log(
    `\n${results.length} rounds: rounds with more than one deployment created: ${multi}; control races without exactly one winner: ${controlBad}; ` +
      `user requests ${total}, failed ${failed}; rounds where API state ≠ router: ${inconsistent}; ` +
      `load average ${loadBefore.map((l) => fmt(l, 1)).join(' ')} → ${loadavg()
        .map((l) => fmt(l, 1))
        .join(' ')}`,
  );
  console.log(
    `command: node --import tsx bench/race.ts --rounds ${rounds} --rate ${rate} --concurrency ${concurrency} --env ${ENV}`,
  );
  if (ok) removeEmbeddedData(dataDir);
  else console.log(`kept ${dataDir} (api.log) for inspection`);
  process.exitCode = ok ? 0 : 1;
}

await main();
