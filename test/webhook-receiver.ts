// A real HTTP endpoint on 127.0.0.1 for webhook tests: records every request (raw body, headers)
// and answers as the test says — a status, a delay, or never (a hanging endpoint).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** `hold`: answer once it resolves (a slow endpoint the test controls). */
type Answer = { status?: number; body?: string; hang?: boolean; hold?: Promise<void> };

export async function startReceiver() {
  const received: Received[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let answer: (r: Received, index: number) => Answer = () => ({ status: 200, body: 'ok' });
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(r);
      const a = answer(r, received.length - 1);
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
      if (a.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const send = () => {
        res.writeHead(a.status ?? 200, { 'content-type': 'text/plain' });
        res.end(a.body ?? 'ok');
      };
      if (a.hold) void a.hold.then(send);
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    /** Bodies as JSON, in arrival order. */
    json: <T = Record<string, unknown>>() => received.map((r) => JSON.parse(r.body) as T),
    answer(fn: (r: Received, index: number) => Answer) {
      answer = fn;
    },
    /** Resolves once `n` requests in all have arrived. */
    until(n: number): Promise<void> {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
