import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { LOG_REDACT, SECURITY_HEADERS } from '../app.ts';
import { lazyChildLoggerFactory } from '../lib/lazy-logger.ts';

// The logger main.ts builds (pino with the redaction list), writing into an array.
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
    done();
  },
});
const logger = pino({ level: 'info', redact: LOG_REDACT }, sink);

// A built dashboard of two files, so the shell and static files are answered too.
const webDist = mkdtempSync(join(tmpdir(), 'qubot-web-'));
mkdirSync(join(webDist, 'assets'));
writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>shell</title>');
writeFileSync(join(webDist, 'assets', 'app-1.js'), 'console.log(1)');

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp({ app: { loggerInstance: logger, webDist } });
});
afterAll(async () => {
  await t.close();
  rmSync(webDist, { recursive: true, force: true });
});

const linesOf = (reqId: string) => lines.filter((l) => l.reqId === reqId);

describe('[API] access log and security headers', () => {
  it('writes one access line per request: method, path, status, time, request id; no headers', async () => {
    const headers = { ...(await t.as('viewer')), 'x-request-id': 'access-log-1' };
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/apps/qubot-one/environments', headers });
    expect(res.statusCode).toBe(200);
    const mine = linesOf('access-log-1');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      msg: 'request completed',
      method: 'GET',
      url: '/api/v1/apps/qubot-one/environments',
      statusCode: 200,
    });
    expect(typeof mine[0]?.responseTime).toBe('number');
    const text = JSON.stringify(mine[0]);
    expect(text).not.toContain('cookie');
    expect(text).not.toContain(String(headers.cookie ?? 'no-cookie-header'));

    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/apps/no-such-app/environments',
      headers: { ...headers, 'x-request-id': 'access-log-2' },
    });
    expect(missing.statusCode).toBe(404);
    expect(linesOf('access-log-2').filter((l) => l.msg === 'request completed')).toEqual([
      expect.objectContaining({ statusCode: 404, url: '/api/v1/apps/no-such-app/environments' }),
    ]);
  });

  it("sends Helmet's headers, CSP included, on API answers and on errors", async () => {
    expect(SECURITY_HEADERS.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'content-security-policy',
        'strict-transport-security',
        'x-content-type-options',
        'x-frame-options',
        'referrer-policy',
      ]),
    );
    const viewer = await t.as('viewer');
    // Every kind of answer: a read, a 404 of the domain and of the router, a 401, a 400, a probe,
    // the dashboard's shell and one of its files.
    const answers: [string, Record<string, string>, number][] = [
      ['/api/v1/apps/qubot-one/environments', viewer, 200],
      ['/api/v1/apps/no-such-app', viewer, 404],
      ['/api/v1/no-such-route', viewer, 404],
      ['/api/v1/apps/qubot-one/environments', {}, 401],
      ['/api/v1/deployments?limit=abc', viewer, 400],
      ['/healthz', {}, 200],
      ['/apps/qubot-one/releases/1.2.0', {}, 200],
      ['/assets/app-1.js', {}, 200],
    ];
    for (const [url, headers, status] of answers) {
      const res = await t.app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(status);
      for (const [name, value] of SECURITY_HEADERS)
        expect(res.headers[name.toLowerCase()], `${url} ${name}`).toBe(value);
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-request-id'], url).toBe(String(res.headers['x-request-id']));
    }
    expect((await t.app.inject({ method: 'GET', url: '/apps/qubot-one' })).body).toContain(
      '<title>shell</title>',
    );
  });

  it("a read's headers reach Node's writeHead in one object: nothing is set on the raw response", async () => {
    // One `reply.raw.setHeader` sends every header of the answer through Node's slow path
    // (validated and stored twice: bench/README.md, "The read path").
    const viewer = await t.as('viewer');
    const set: string[] = [];
    const original = ServerResponse.prototype.setHeader;
    ServerResponse.prototype.setHeader = function (this: ServerResponse, name, value) {
      set.push(name);
      return original.call(this, name, value);
    };
    // Over a real connection (the injector's own response object sets headers itself).
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    let res: Response;
    try {
      res = await fetch(`${address}/api/v1/apps/qubot-one/environments`, { headers: viewer });
      await res.arrayBuffer();
    } finally {
      ServerResponse.prototype.setHeader = original;
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(set).toEqual([]);
  });

  it("Swagger UI keeps its own CSP (its onSend hook runs after the app's); the other headers are the app's", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain('validator.swagger.io');
    expect(csp).not.toContain("frame-ancestors 'none'");
    for (const [name, value] of SECURITY_HEADERS)
      if (name !== 'content-security-policy') expect(res.headers[name], name).toBe(value);
  });

  it("a read's chain is one hook per stage: authentication, the input check, the headers, the figures", () => {
    // Each hook is a step of every request (bench/README.md, "The read path"); a plugin that adds a
    // global per-request hook fails this and should say why it needs one.
    const tree = t.app.printRoutes({ includeHooks: true, commonPrefix: false });
    const lines = tree.split('\n');
    const at = lines.findIndex((l) => l.endsWith('── /:app/environments (GET)'));
    expect(at).toBeGreaterThan(-1);
    const hooks: string[] = [];
    for (const line of lines.slice(at + 1)) {
      const m = /• \((\w+)\) (\[.*\])/.exec(line);
      if (!m) break;
      hooks.push(`${m[1]} ${(JSON.parse(m[2] as string) as string[]).length}`);
    }
    // onRequest: @fastify/websocket's `request.ws` flag, authentication; preValidation: the NUL and
    // Unicode check; onSend: security headers, request id, read caches; onResponse:
    // @fastify/websocket's socket clean-up, the histogram's unmatched-route and route observers.
    expect(hooks).toEqual(['onRequest 2', 'preValidation 1', 'onSend 1', 'onResponse 3']);
  });

  it("request.log is made on first use: same bindings, same redaction as pino's child", () => {
    let children = 0;
    const parent = pino({ level: 'info', redact: LOG_REDACT }, sink);
    const child = parent.child;
    parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
      children++;
      return child.apply(this, args);
    } as typeof parent.child;
    const log = lazyChildLoggerFactory(parent, { reqId: 'lazy-1' }, {});
    expect(log.level).toBe('info');
    expect(children).toBe(0);
    log.debug('below the level');
    log.warn({ body: { password: 'hunter2' } }, 'first line');
    log.error({ err: new Error('boom') }, 'second line');
    expect(children).toBe(1);
    expect(linesOf('lazy-1').slice(0, 2)).toEqual([
      expect.objectContaining({ level: 40, msg: 'first line', body: { password: '[Redacted]' } }),
      expect.objectContaining({
        level: 50,
        msg: 'second line',
        err: expect.objectContaining({ message: 'boom' }),
      }),
    ]);
    log.child({ step: 2 }).info('third line');
    expect(linesOf('lazy-1').at(-1)).toMatchObject({ msg: 'third line', step: 2 });
  });
});
