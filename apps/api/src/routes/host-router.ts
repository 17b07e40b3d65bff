import {
  CreatedEnrolmentToken,
  CreateEnrolmentTokenBody,
  EnrolBody,
  Enrolled,
  EnrolmentToken,
  Host,
  HostActionBody,
  HostActionParams,
  IdParams,
  ListOf,
  PageQuery,
} from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import { errorResponses, typed } from './route-kit.ts';

const errors = errorResponses(400, 401, 403, 404, 409);

/** Hosts and their enrolment (docs/hosts.md): admin routes, and the agent's enrolment. */
export default async function hostRouter(parent: FastifyInstance) {
  const app = typed(parent);
  const { hosts } = app.services;
  const tags = ['hosts'];
  app.get(
    '/hosts',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Enrolled hosts (admin): state, agent version, instances, last heartbeat, CPU/memory',
        response: { 200: ListOf(Host), ...errors },
      },
    },
    async (request) => hosts.list(request.ctx()),
  );
  app.get(
    '/hosts/:id',
    {
      onRequest: app.authenticate,
      schema: { tags, summary: 'One host (admin)', params: IdParams, response: { 200: Host, ...errors } },
    },
    async (request) => hosts.get(request.ctx(), request.params.id),
  );
  app.post(
    '/hosts/:id/:action',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          "Cordon, uncordon, drain a host, or revoke its agent's credential (admin, audited); the same action again changes nothing. 409 on a revoked host",
        description:
          'drain also moves the instances on the host now: a `drain` deployment of the live release per environment (replacements on the other hosts serve before those on this host are drained and stopped). 409 naming `params.id` when the other ready hosts have no room for them (`no_capacity`) or an environment has an active deployment; nothing changes then. The host shows `drained` once nothing runs there.',
        params: HostActionParams,
        body: HostActionBody,
        response: { 200: Host, ...errors },
      },
    },
    async (request) =>
      hosts.act(request.ctx(), request.params.id, request.params.action, request.body?.reason),
  );
  app.get(
    '/hosts/enrolment-tokens',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Enrolment tokens (admin), newest first; secrets are never shown again',
        querystring: PageQuery,
        response: { 200: ListOf(EnrolmentToken), ...errors },
      },
    },
    async (request) => hosts.listTokens(request.ctx(), request.query),
  );
  app.post(
    '/hosts/enrolment-tokens',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary:
          'Create a one-time enrolment token for `qubot agent --enrol` (admin); the secret is in this response only',
        body: CreateEnrolmentTokenBody,
        response: { 201: CreatedEnrolmentToken, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await hosts.createToken(request.ctx(), request.body)),
  );
  app.delete(
    '/hosts/enrolment-tokens/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags,
        summary: 'Revoke an unused enrolment token (admin)',
        params: IdParams,
        response: { 200: EnrolmentToken, ...errors },
      },
    },
    async (request) => hosts.revokeToken(request.ctx(), request.params.id),
  );
  app.post(
    '/agent/enrol',
    {
      // The one-time token is the credential; limited like sign-in.
      config: { public: true, rateLimit: { max: 30, timeWindow: 60_000 } },
      schema: {
        tags,
        summary:
          "An agent enrols: it spends a one-time enrolment token and gets its host's own credential, shown once. 401 naming `token` for an unknown, used, revoked or expired token; 409 naming `name` when the host name is taken",
        body: EnrolBody,
        response: { 201: Enrolled, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await hosts.enrol(request.ctx(), request.body)),
  );
}
