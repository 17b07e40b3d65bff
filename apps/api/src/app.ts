import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import type { Database } from '@qubot/db';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { validatorCompiler } from './lib/validation.ts';
import auth from './plugins/auth.ts';
import database from './plugins/database.ts';
import errorHandler from './plugins/error-handler.ts';
import metrics from './plugins/metrics.ts';
import openapi from './plugins/openapi.ts';
import services from './plugins/services.ts';
import web from './plugins/web.ts';
import applicationRouter from './routes/application-router.ts';
import deploymentRouter from './routes/deployment-router.ts';
import healthRouter from './routes/health-router.ts';
import releaseRouter from './routes/release-router.ts';

export interface AppOptions {
  db: Database;
  /** A pino logger (main.ts); tests run silent. */
  loggerInstance?: FastifyBaseLogger;
  /** Directory of the built web app; defaults to apps/web/dist. */
  webDist?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Secrets never reach the logs. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
];

export async function buildApp(opts: AppOptions) {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    bodyLimit: 256 * 1024,
    trustProxy: false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // External plugins first.
  await app.register(errorHandler);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
  });
  await app.register(cookie);
  await app.register(metrics);
  await app.register(openapi);
  await app.register(database, { db: opts.db });

  // Domain plugins.
  await app.register(auth);
  await app.register(services);

  // Routes.
  await app.register(healthRouter);
  await app.register(
    async (api) => {
      await api.register(applicationRouter);
      await api.register(releaseRouter);
      await api.register(deploymentRouter);
    },
    { prefix: '/api/v1' },
  );
  await app.register(web, { webDist: opts.webDist });
  return app;
}
export type App = Awaited<ReturnType<typeof buildApp>>;
