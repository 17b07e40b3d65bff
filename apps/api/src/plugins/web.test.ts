import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import web from './web.ts';

const dist = mkdtempSync(join(tmpdir(), 'qubot-web-'));
const app = Fastify();
beforeAll(async () => {
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>shell</title>');
  writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
  writeFileSync(join(dist, 'assets', 'app-1.js'), 'console.log(1)');
  await app.register(web, { webDist: dist });
  app.get('/api/v1/thing', async () => ({ ok: true }));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('web app serving', () => {
  it('answers client routes with the app shell, dots in the path included', async () => {
    for (const url of ['/', '/apps/qubot-one', '/apps/qubot-one/releases/1.2.0', '/deployments?app=x.y']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain('<title>shell</title>');
    }
  });

  it('serves files as files, and a missing asset is a 404, not the shell', async () => {
    expect((await app.inject({ method: 'GET', url: '/assets/app-1.js' })).body).toBe('console.log(1)');
    expect((await app.inject({ method: 'GET', url: '/favicon.svg' })).body).toBe('<svg/>');
    expect((await app.inject({ method: 'GET', url: '/assets/gone-2.js' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/thing' })).json()).toEqual({ ok: true });
  });

  it('an API path or a probe that matches no route is a 404, not the shell', async () => {
    for (const url of ['/api/v1/nothing-here', '/api', '/api/docs/nope', '/healthz', '/metrics?x=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('<title>shell</title>');
    }
  });
});
