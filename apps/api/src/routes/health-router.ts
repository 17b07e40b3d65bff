import { isMigrated } from '@qubot/db';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { typed } from './route-kit.ts';

const Health = Type.Object({ status: Type.String() });
const Ready = Type.Object({
  status: Type.String(),
  checks: Type.Object({ database: Type.String(), migrations: Type.String() }),
});

export default async function healthRouter(parent: FastifyInstance) {
  const app = typed(parent);
  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: the process is up', response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database is reachable and migrated',
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      let database = 'ok';
      let migrations = 'ok';
      try {
        // Its own connection: a busy pool is overload (503 "overloaded" on requests), not unreadiness.
        if (!(await isMigrated(app.db.probe))) migrations = 'pending';
      } catch {
        database = 'unreachable';
        migrations = 'unknown';
      }
      const ok = database === 'ok' && migrations === 'ok';
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ready' : 'not ready', checks: { database, migrations } });
    },
  );
}
