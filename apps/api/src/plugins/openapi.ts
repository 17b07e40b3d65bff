import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** OpenAPI document generated from the route schemas, at /api/openapi.json, and a docs page at /api/docs. */
export default fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Qubot Deploy API',
          version: '0.1.0',
          description:
            'Release control plane: releases, environments, deployments, traffic and audit. ' +
            'Errors use one envelope: { "error": { "code", "message", "details" }, "requestId" }.',
        },
        servers: [{ url: '/' }],
        tags: [
          { name: 'applications' },
          { name: 'environments' },
          { name: 'releases' },
          { name: 'deployments' },
          { name: 'operations' },
          { name: 'monitoring' },
          {
            name: 'hooks',
            description: 'Deployment hooks: jobs before and after a deployment (docs/hooks.md)',
          },
          { name: 'backups', description: "Backups of Qubot Deploy's own database (admin; docs/backup.md)" },
          {
            name: 'webhooks',
            description:
              'Outgoing webhooks: signed, retried, durable deliveries with a log (docs/webhooks.md)',
          },
        ],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
