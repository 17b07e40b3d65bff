import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../proc.ts';
import { createTrafficRouter, type TrafficRouter } from './router.ts';

// The proxying itself, against an in-process upstream that echoes what it received.
let upstream: Server;
let upstreamPort: number;
let upstream2: Server;
let router: TrafficRouter;
let base: string;
const client = new Agent({ connections: 4 });
const upstreamSockets = new Set<unknown>();
let slowRequests = 0;
let slowClosed = 0;
/** Requests to `/drop` seen by each upstream port (it closes the connection without answering). */
const dropped = new Map<number, number>();

const BIG = Buffer.alloc(8 * 1024 * 1024, 'qubot-one ');

const echo = (req: IncomingMessage, body: string) =>
  JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });

beforeAll(async () => {
  const handler: RequestListener = (req, res) => {
    upstreamSockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/slow') {
        slowRequests++; // never answered: the router's upstream timeout must fire
        req.socket.once('close', () => slowClosed++);
        return;
      }
      if (req.url === '/drop') {
        const port = (req.socket.address() as AddressInfo).port;
        if (port === upstreamPort) {
          dropped.set(port, (dropped.get(port) ?? 0) + 1);
          req.socket.destroy();
          return;
        }
      }
      if (req.url === '/big') {
        // 8 MiB, more than the sockets buffer: the router must pause the upstream and resume.
        res.setHeader('content-type', 'application/octet-stream');
        res.end(BIG);
        return;
      }
      if (req.url === '/die-mid-body') {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial', () => res.socket?.destroy());
        return;
      }
      res.setHeader('keep-alive', 'timeout=65');
      res.setHeader('x-qubot-pool', 'spoofed');
      res.end(echo(req, Buffer.concat(chunks).toString()));
    });
  };
  upstream = createServer(handler);
  upstream2 = createServer(handler);
  await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
  await new Promise<void>((ok) => upstream2.listen(0, '127.0.0.1', ok));
  upstreamPort = (upstream.address() as AddressInfo).port;
  router = createTrafficRouter({ port: 0, controlPort: 0, secret: 's'.repeat(32) });
  base = `http://127.0.0.1:${(await router.listen()).port}`;
});

afterAll(async () => {
  await router.close();
  await client.close();
  for (const server of [upstream, upstream2]) {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
});

async function send(path: string, opts: Parameters<typeof request>[1] = {}) {
  const res = await request(`${base}${path}`, { dispatcher: client, ...opts });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(text) };
}

describe('router proxying', () => {
  it('replays a buffered body once on another target, forwarding headers added once', async () => {
    router.setConfig({
      pools: [
        {
          name: 'blue',
          version: '1.0.0',
          weight: 1,
          targets: [`127.0.0.1:${await freePort()}`, `127.0.0.1:${upstreamPort}`],
        },
      ],
    });
    const r = await send('/submit?x=1', {
      method: 'POST',
      body: 'payload',
      headers: { 'x-forwarded-for': '10.0.0.1' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ method: 'POST', url: '/submit?x=1', body: 'payload' });
    expect(r.body.headers['x-forwarded-for']).toBe('10.0.0.1,127.0.0.1');
    expect(r.body.headers['x-forwarded-proto']).toBe('http');
    expect(router.stats('blue', 60_000)?.totals.retries).toBe(1);
  });

  it('keeps hop-by-hop headers to their own hop and reuses upstream connections', async () => {
    router.setConfig({
      pools: [{ name: 'blue', version: '1.0.0', weight: 1, targets: [`127.0.0.1:${upstreamPort}`] }],
    });
    upstreamSockets.clear();
    for (let i = 0; i < 5; i++) {
      const r = await send('/a/../b', { headers: { connection: 'close' } });
      expect(r.status).toBe(200);
      expect(r.body.url).toBe('/b');
      expect(r.body.headers.connection).toBe('keep-alive');
      // The router's own pool name wins, and the upstream's keep-alive hint is not passed on.
      expect(r.headers['x-qubot-pool']).toBe('blue');
      expect(r.headers['keep-alive']).not.toBe('timeout=65');
    }
    expect(upstreamSockets.size).toBe(1);
  });

  it('cuts the client response short and counts a proxy error when the upstream dies mid-body', async () => {
    router.setConfig({
      pools: [{ name: 'green', version: '2.0.0', weight: 1, targets: [`127.0.0.1:${upstreamPort}`] }],
    });
    const res = await request(`${base}/die-mid-body`, { dispatcher: client });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    await expect.poll(() => router.stats('green', 60_000)?.errors).toBe(1);
    expect(router.inFlight()).toEqual({ total: 0, targets: {} });
    expect(await router.registry.metrics()).toMatch(
      /qubot_router_errors_total\{pool="green",version="2.0.0",kind="proxy"\} 1/,
    );
  });

  it('resends an idempotent request whose connection closed unanswered, never a POST', async () => {
    const targets = [upstream, upstream2].map((u) => `127.0.0.1:${(u.address() as AddressInfo).port}`);
    // A fresh config starts round-robin at the first target: the one that drops `/drop`.
    router.setConfig({ pools: [{ name: 'blue', version: '1.1.0', weight: 1, targets }] });
    dropped.clear();
    const get = await send('/drop');
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({ method: 'GET', url: '/drop' });
    expect(dropped.get(upstreamPort)).toBe(1);
    expect(router.stats('blue', 60_000)?.totals.retries).toBe(1);

    router.setConfig({ pools: [{ name: 'blue', version: '1.1.1', weight: 1, targets }] });
    dropped.clear();
    const res = await request(`${base}/drop`, { dispatcher: client, method: 'POST', body: 'once' });
    await res.body.text();
    // It may have been processed before the connection closed: resending could run it twice.
    expect(res.statusCode).toBe(502);
    expect(dropped.get(upstreamPort)).toBe(1);
    expect(router.stats('blue', 60_000)).toMatchObject({ errors: 1, totals: { retries: 0 } });
  });

  it('streams bodies too big to replay and chunked ones through, and large answers with backpressure', async () => {
    const small = createTrafficRouter({
      port: 0,
      controlPort: 0,
      secret: 's'.repeat(32),
      maxReplayBodyBytes: 16,
    });
    const url = `http://127.0.0.1:${(await small.listen()).port}`;
    try {
      small.setConfig({
        pools: [{ name: 'blue', version: '1.0.0', weight: 1, targets: [`127.0.0.1:${upstreamPort}`] }],
      });
      const payload = 'x'.repeat(100_000);
      const sized = await request(`${url}/upload`, { dispatcher: client, method: 'POST', body: payload });
      const sizedBody = JSON.parse(await sized.body.text());
      expect(sized.statusCode).toBe(200);
      expect(sizedBody.body).toBe(payload);
      expect(sizedBody.headers['content-length']).toBe('100000');

      // No content-length: the client sends it chunked.
      const chunked = await request(`${url}/upload`, {
        dispatcher: client,
        method: 'PUT',
        body: Readable.from(['first,', 'second,', 'third']),
      });
      const chunkedBody = JSON.parse(await chunked.body.text());
      expect(chunked.statusCode).toBe(200);
      expect(chunkedBody).toMatchObject({ method: 'PUT', body: 'first,second,third' });
      // Streamed on as chunked, or with its length when the whole body had already arrived.
      const { 'transfer-encoding': te, 'content-length': cl } = chunkedBody.headers;
      expect(te === 'chunked' ? cl : Number(cl)).toBe(te === 'chunked' ? undefined : 18);

      const big = await request(`${url}/big`, { dispatcher: client });
      const received = Buffer.from(await big.body.arrayBuffer());
      expect(big.statusCode).toBe(200);
      expect(big.headers['content-length']).toBe(String(BIG.length));
      expect(received.equals(BIG)).toBe(true);
      expect(small.stats('blue', 60_000)).toMatchObject({ requests: 3, errors: 0 });
      expect(small.inFlight()).toEqual({ total: 0, targets: {} });
    } finally {
      await small.close();
    }
  });

  it('stops the upstream exchange when the client goes away, without counting it against the pool', async () => {
    router.setConfig({
      pools: [{ name: 'blue', version: '1.0.2', weight: 1, targets: [`127.0.0.1:${upstreamPort}`] }],
    });
    const [seen, closed] = [slowRequests, slowClosed];
    const abort = new AbortController();
    const pending = request(`${base}/slow`, { dispatcher: client, signal: abort.signal });
    await expect.poll(() => slowRequests).toBe(seen + 1);
    expect(router.inFlight().total).toBe(1);
    abort.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => slowClosed).toBe(closed + 1);
    expect(router.inFlight()).toEqual({ total: 0, targets: {} });
    expect(router.stats('blue', 60_000)).toMatchObject({ requests: 0, errors: 0, inFlight: 0 });
  });

  it('answers 502 without a retry when an upstream times out on a reused connection', async () => {
    const short = createTrafficRouter({
      port: 0,
      controlPort: 0,
      secret: 's'.repeat(32),
      proxyTimeoutMs: 300,
    });
    const url = `http://127.0.0.1:${(await short.listen()).port}`;
    try {
      const targets = [upstream, upstream2].map((u) => `127.0.0.1:${(u.address() as AddressInfo).port}`);
      short.setConfig({ pools: [{ name: 'blue', version: '1.0.0', weight: 1, targets }] });
      // One request per target, so the next one goes out on a kept-alive connection.
      for (let i = 0; i < 2; i++) {
        expect((await request(`${url}/warm`, { dispatcher: client })).statusCode).toBe(200);
      }
      slowRequests = 0;
      const res = await request(`${url}/slow`, { dispatcher: client });
      await res.body.text();
      expect(res.statusCode).toBe(502);
      // The request reached the upstream: resending it could run it twice.
      expect(slowRequests).toBe(1);
      expect(short.stats('blue', 60_000)?.totals.retries).toBe(0);
    } finally {
      await short.close();
    }
  });
});
