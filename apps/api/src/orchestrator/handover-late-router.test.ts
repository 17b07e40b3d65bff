// A worker that crashed mid-handover may leave the new kind's router still starting: the process
// runs and holds its ports but has not answered yet (a busy machine). The next worker must wait for
// it and adopt it — a second start fails on its ports, and going back to the old kind would undo
// the change the user asked for. Emulated here without a crash: the API queues the handover with
// no worker running (the row says `handover`), the router is started as the handover starts it
// (the runtime's own providerFor, same ports and directory) and frozen with SIGSTOP, then a
// worker starts. A router that never answers is replaced after LATE_ROUTER_MS (15 s).
import { isAlive, signal, stopRouter } from '@qubot/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Orchestrator } from './orchestrator.ts';
import {
  FAST,
  FINAL,
  type Harness,
  listenerOf,
  recordingLog,
  routerProcessesOf,
  setTrafficProvider,
  startHarness,
  startWorker,
} from './test-helpers.ts';

let h: Harness;
let worker: Orchestrator | null = null;
const ENV = 'development';
const WAITING = 'new traffic router still starting; waiting to adopt it';
const ADOPTED = 'adopted the new traffic router that was starting';
const REPLACING = 'new traffic router never answered; replacing it';
const frozen = new Set<number>();

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

const routerProcesses = () => routerProcessesOf(h.dataDir);

/** A handover to `to` left to the next worker: none runs, the API answers 503 `handover_pending`. */
async function pendingHandover(to: 'node' | 'haproxy') {
  await worker?.stop();
  worker = null;
  const res = await setTrafficProvider(h, ENV, to, 503);
  expect(res.json().error.details.reason).toBe('handover_pending');
  const r = await row();
  expect({ provider: r.trafficProvider, status: r.routerStatus }).toEqual({
    provider: to,
    status: 'handover',
  });
  return r;
}

/**
 * What the crashed worker's handover had started: the new kind's router, built by the runtime's
 * own `providerFor` as the handover builds it (same ports, directory, takeover), then frozen
 * (SIGSTOP).
 */
async function frozenRouter(r: Awaited<ReturnType<typeof row>>, kind: 'node' | 'haproxy') {
  if (kind === 'node') {
    // Kept from when Node served it (the handover writes them first when they are missing).
    expect(r.routerControlPort && r.routerSecret).toBeTruthy();
  } else {
    // The handover stops the Node router first (HAProxy cannot wait for its port), then starts it.
    await stopRouter(r.routerPid as number, 15_000);
  }
  const app = await h.db.prisma.application.findUniqueOrThrow({ where: { id: r.applicationId } });
  const p = h.app.orchestrator.runtime.providerFor(r, {
    kind,
    healthPath: app.healthPath,
    takeover: kind === 'node',
  });
  if (!p) throw new Error(`no ${kind} provider for the row`);
  const { pid } = await p.start();
  signal(pid, 'SIGSTOP');
  frozen.add(pid);
  return pid;
}

/** A worker starting (its start-up adoption finishes the handover), with its log kept. */
function nextWorker() {
  const rec = recordingLog();
  const started = startWorker(h, { reconcileIntervalMs: 300, log: rec.log }).then((w) => {
    worker = w;
    return w;
  });
  return { rec, started };
}

async function untilServedBy(to: 'node' | 'haproxy', dump: () => string) {
  await expect
    .poll(
      async () => {
        const r = await row();
        return `${r.trafficProvider} ${r.routerStatus}`;
      },
      { timeout: 60_000, interval: 100 },
    )
    .toBe(`${to} up`)
    .catch((err: Error) => {
      throw new Error(
        `${err.message}\nrouters: ${JSON.stringify(routerProcesses())}\nworker's log:\n${dump()}`,
      );
    });
  const r = await row();
  expect(await listenerOf(r.address as string)).toEqual({
    command: to === 'haproxy' ? 'haproxy' : 'node',
    pid: r.routerPid,
  });
  expect(routerProcesses()[to]).toEqual([r.routerPid]);
  const from = to === 'node' ? 'haproxy' : 'node';
  await expect.poll(() => routerProcesses()[from], { timeout: 20_000 }).toEqual([]);
  const res = await fetch(`${r.address}/healthz`);
  expect(res.status).toBe(200);
  return r;
}

beforeAll(async () => {
  h = await startHarness({ worker: false, routingTimeoutMs: 3_000 });
  worker = await startWorker(h, { reconcileIntervalMs: 300 });
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'rolling', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  for (const pid of frozen) if (isAlive(pid)) signal(pid, 'SIGCONT');
  await worker?.stop();
  await h?.close();
  // A router this test started that no worker adopted (a failed run) goes too.
  if (h) for (const pid of Object.values(routerProcessesOf(h.dataDir)).flat()) signal(pid, 'SIGKILL');
});

it('[ENGINE] handover: the new router a crashed worker left still starting (running, not answering) is waited for and adopted — never doubled, the change kept', async () => {
  const audits = () =>
    h.db.prisma.auditEntry.count({ where: { action: 'environment.traffic_provider.reverted' } });
  // To HAProxy and back to Node, each time with the new router frozen when the next worker starts.
  for (const to of ['haproxy', 'node'] as const) {
    const r = await pendingHandover(to);
    const pid = await frozenRouter(r, to);
    const { rec, started } = nextWorker();
    // The worker finds the frozen router and waits for it (without the wait it would start a
    // second one, fail on its ports and go back to the old kind: `started` resolves first).
    const waiting = await Promise.race([rec.next(WAITING), started.then(() => null)]);
    expect(waiting, rec.dump('haproxy started', 'traffic router started')).toMatchObject({
      pid,
      provider: to,
    });
    signal(pid, 'SIGCONT');
    frozen.delete(pid);
    await started;
    const after = await untilServedBy(to, () => rec.dump(WAITING, ADOPTED));
    expect(after.routerPid, 'the router the crashed worker started, adopted').toBe(pid);
    expect(rec.lines.filter((l) => l.msg === ADOPTED).map((l) => l.pid)).toEqual([pid]);
  }
  expect(await audits()).toBe(0);
}, 180_000);

it('[ENGINE] handover: a new router that never answers is replaced after 15 s; the handover still completes', async () => {
  const r = await pendingHandover('haproxy');
  const mute = await frozenRouter(r, 'haproxy');
  const { rec, started } = nextWorker();
  const replacing = await Promise.race([rec.next(REPLACING), started.then(() => null)]);
  expect(replacing, rec.dump()).toMatchObject({ pid: mute, provider: 'haproxy' });
  await started;
  const after = await untilServedBy('haproxy', () => rec.dump(WAITING, REPLACING));
  expect(after.routerPid).not.toBe(mute);
  expect(isAlive(mute)).toBe(false);
}, 120_000);
