// Back to the old traffic provider while the router that served before is still finishing a slow
// client's request, both ways round.
// node → haproxy → node: the old Node router is stopping — its traffic port closed, its control port
// still open until its last request ends — so it must not be adopted as the new one (it would leave
// the address with no listener and exit under the row), and its control port is not free. The new
// router gets a control port of its own; the old one exits at its drain's end.
// haproxy → node → haproxy: the old haproxy has closed its listener and keeps running until that
// request ends. It must not be taken for a new haproxy still starting (waited for, then killed,
// cutting the slow request): a new haproxy serves the address at once, and the old one exits at
// its drain's end.
import { connect, type Socket } from 'node:net';
import { isAlive, RouterClient } from '@qubot/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  FAST,
  FINAL,
  type Harness,
  listenerOf,
  routerProcessesOf,
  setTrafficProvider,
  startHarness,
} from './test-helpers.ts';

let h: Harness;
const slow: Socket[] = [];
const ENV = 'development';

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'rolling', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  for (const socket of slow) socket.destroy();
  await h?.close();
});

/** A keep-alive client that got one answer, then sends only the start of its next request. */
async function slowClient(address: string) {
  const { hostname, port } = new URL(address);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const answered = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (/\r\n\r\n/.test(got)) resolve(got);
    });
  });
  socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  expect((await answered).split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\n`);
  // Answered (408) or cut by the router at its drain's end.
  socket.on('error', () => {});
  slow.push(socket);
  return socket;
}

/**
 * The new router (`pid`, of `kind`) answers on the address; the draining one (`oldPid`) ends with
 * its drain (15 s at most) and takes nothing with it: the new one alone runs, listens and is recorded.
 */
async function servesThenDrainsOut(address: string, oldPid: number, pid: number, kind: 'node' | 'haproxy') {
  for (let i = 0; i < 10; i++) {
    const r = await fetch(address);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  }
  await expect.poll(() => isAlive(oldPid), { timeout: 25_000 }).toBe(false);
  await expect
    .poll(() => routerProcessesOf(h.dataDir), { timeout: 20_000 })
    .toEqual({ node: kind === 'node' ? [pid] : [], haproxy: kind === 'haproxy' ? [pid] : [] });
  expect((await fetch(address)).status).toBe(200);
  expect(await listenerOf(address)).toEqual({ command: kind, pid });
  expect(await row()).toMatchObject({ routerPid: pid, routerStatus: 'up', trafficProvider: kind });
}

it('[TRAFFIC] node → haproxy → node while the old Node router still drains a slow request: a new router serves on its own control port; the draining one is not adopted and exits at its drain’s end', async () => {
  const first = await row();
  expect({ provider: first.trafficProvider, status: first.routerStatus }).toEqual({
    provider: 'node',
    status: 'up',
  });
  const address = first.address as string;
  await slowClient(address);

  await setTrafficProvider(h, ENV, 'haproxy');
  const old = new RouterClient({
    controlUrl: `http://127.0.0.1:${first.routerControlPort}`,
    secret: first.routerSecret as string,
  });
  // The old router is stopping, kept alive by the slow request.
  expect(await old.health()).toMatchObject({ pid: first.routerPid, listening: false, draining: true });

  const res = await setTrafficProvider(h, ENV, 'node');
  expect(res.json()).toMatchObject({ trafficProvider: 'node', address, router: { status: 'up' } });
  const after = await row();
  // Still draining when the new router took over: the scenario happened.
  expect(isAlive(first.routerPid as number)).toBe(true);
  expect(after.routerPid).not.toBe(first.routerPid);
  expect(after.routerControlPort).not.toBe(first.routerControlPort);
  expect(await listenerOf(address)).toEqual({ command: 'node', pid: after.routerPid });
  const fresh = new RouterClient({
    controlUrl: `http://127.0.0.1:${after.routerControlPort}`,
    secret: after.routerSecret as string,
  });
  expect(await fresh.health()).toMatchObject({ pid: after.routerPid, listening: true, draining: false });
  await servesThenDrainsOut(address, first.routerPid as number, after.routerPid as number, 'node');
}, 120_000);

it('[TRAFFIC] haproxy → node → haproxy while the old haproxy still drains a slow request: a new haproxy serves the address; the draining one is not adopted and exits at its drain’s end', async () => {
  await setTrafficProvider(h, ENV, 'haproxy');
  const first = await row();
  expect({ provider: first.trafficProvider, status: first.routerStatus }).toEqual({
    provider: 'haproxy',
    status: 'up',
  });
  const address = first.address as string;
  expect(await listenerOf(address)).toEqual({ command: 'haproxy', pid: first.routerPid });
  await slowClient(address);

  await setTrafficProvider(h, ENV, 'node');
  // The old haproxy is in its soft stop, kept alive by the slow request.
  expect(isAlive(first.routerPid as number)).toBe(true);

  const res = await setTrafficProvider(h, ENV, 'haproxy');
  expect(res.json()).toMatchObject({ trafficProvider: 'haproxy', address, router: { status: 'up' } });
  const after = await row();
  // Still draining when the new haproxy took over: the scenario happened.
  expect(isAlive(first.routerPid as number)).toBe(true);
  expect(after.routerPid).not.toBe(first.routerPid);
  expect(await listenerOf(address)).toEqual({ command: 'haproxy', pid: after.routerPid });
  await servesThenDrainsOut(address, first.routerPid as number, after.routerPid as number, 'haproxy');
}, 120_000);
