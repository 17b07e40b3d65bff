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

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp({ app: { loggerInstance: logger } });
});
afterAll(async () => {
  await t.close();
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
    expect(SECURITY_HEADERS.map(([name]) => name.toLowerCase())).toEqual(
      expect.arrayContaining([
        'content-security-policy',
        'strict-transport-security',
        'x-content-type-options',
        'x-frame-options',
        'referrer-policy',
      ]),
    );
    const headers = await t.as('viewer');
    for (const url of ['/api/v1/apps/qubot-one/environments', '/api/v1/apps/no-such-app', '/healthz']) {
      const res = await t.app.inject({ method: 'GET', url, headers });
      for (const [name, value] of SECURITY_HEADERS)
        expect(res.headers[name.toLowerCase()], `${url} ${name}`).toBe(value);
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
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
