// Keep-alive between clients and the router: the router must never be the side that closes an idle
// connection a client may be reusing at that very moment (that race reset one request after a
// control-plane restart, when the busy machine made the client late to close its side).
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTrafficRouter, type TrafficRouter } from './router.ts';

let upstream: Server;
let router: TrafficRouter;
let port: number;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  router = createTrafficRouter({ port: 0, controlPort: 0, secret: 's'.repeat(32) });
  port = (await router.listen()).port;
  await router.setConfig({
    pools: [
      {
        name: 'blue',
        version: '1.0.0',
        weight: 100,
        targets: [`127.0.0.1:${(upstream.address() as AddressInfo).port}`],
      },
    ],
  });
});

afterAll(async () => {
  await router.close();
  await new Promise((ok) => upstream.close(ok));
});

/** One HTTP/1.1 request on `socket`; resolves with the raw response head. */
function get(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (d: Buffer) => {
      data += d.toString();
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0 && data.length >= end + 4 + 2) {
        socket.off('data', onData);
        resolve(data.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET / HTTP/1.1\r\nhost: test\r\nconnection: keep-alive\r\n\r\n');
  });
}

it('keeps idle client connections open past the usual client timeouts, and says so', async () => {
  const socket = connect(port, '127.0.0.1');
  await new Promise((ok) => socket.once('connect', ok));
  const head = await get(socket);
  expect(head).toMatch(/^HTTP\/1\.1 200/);
  // Clients close an idle connection before the server's advertised timeout.
  expect(head.toLowerCase()).toContain('keep-alive: timeout=65');
  // Idle past Node's 5 s default: the router must not have closed it under the client.
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  await new Promise((r) => setTimeout(r, 5_500));
  expect(closed).toBe(false);
  expect(await get(socket)).toMatch(/^HTTP\/1\.1 200/);
  socket.destroy();
}, 15_000);
