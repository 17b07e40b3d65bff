import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const DEFAULT_WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

/** Serves the built dashboard with a single-page-app fallback for client routes. */
export default fp(
  async (app: FastifyInstance, opts: { webDist?: string | undefined }) => {
    const root = opts.webDist ?? DEFAULT_WEB_DIST;
    if (!existsSync(join(root, 'index.html'))) {
      app.log.warn({ root }, 'web app is not built; the dashboard is unavailable (run the build)');
      return;
    }
    await app.register(fastifyStatic, { root, wildcard: false, index: ['index.html'] });
    // Files are the build's assets and its top-level files; any other path is a client route,
    // dots included (`/apps/qubot-one/releases/1.2.0`).
    const topLevel = new Set(readdirSync(root).map((name) => `/${name}`));
    const isFile = (path: string) => path.startsWith('/assets/') || topLevel.has(path);
    // Any other GET is a client route: the app shell. A catch-all route rather than an onRequest
    // hook, which would be a step of every API request's chain (bench/README.md, "The read path");
    // every other route matches first.
    const notShell = new Set(['/healthz', '/readyz', '/metrics']);
    app.get('/*', { schema: { hide: true } }, (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (path.startsWith('/api') || isFile(path) || notShell.has(path)) return reply.callNotFound();
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  },
  { name: 'web' },
);
