// Back to the Node router while the one that served before is still finishing a slow client's
// request (node → haproxy → node within its drain): the old router is stopping — its traffic port
// closed, its control port still open until its last request ends — so it must not be adopted as
// the new one (it would leave the address with no listener and exit under the row), and its
// control port is not free. The new router gets a control port of its own; the old one exits at
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
let slow: Socket | null = null;
const ENV = 'development';

const row = () => h.db.prisma.environment.findFirstOrThrow({ where: { name: ENV } });

beforeAll(async () => {
  h = await startHarness();
  const d = await h.deploy(ENV, { version: '1.0.0', strategy: 'rolling', options: FAST });
  expect((await h.until(d.id, FINAL, 90_000)).status).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  slow?.destroy();
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
  // Cut by the router at its drain's end.
  socket.on('error', () => {});
  return socket;
}

it('[TRAFFIC] node → haproxy → node while the old Node router still drains a slow request: a new router serves on its own control port; the draining one is not adopted and exits at its drain’s end', async () => {
  const first = await row();
  expect({ provider: first.trafficProvider, status: first.routerStatus }).toEqual({
    provider: 'node',
    status: 'up',
  });
  const address = first.address as string;
  slow = await slowClient(address);

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
  for (let i = 0; i < 10; i++) {
    const r = await fetch(address);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  }
  // The draining router ends with its drain (15 s at most) and takes nothing with it.
  await expect.poll(() => isAlive(first.routerPid as number), { timeout: 25_000 }).toBe(false);
  await expect
    .poll(() => routerProcessesOf(h.dataDir), { timeout: 20_000 })
    .toEqual({ node: [after.routerPid], haproxy: [] });
  expect((await fetch(address)).status).toBe(200);
  expect(await row()).toMatchObject({
    routerPid: after.routerPid,
    routerStatus: 'up',
    trafficProvider: 'node',
  });
}, 120_000);
