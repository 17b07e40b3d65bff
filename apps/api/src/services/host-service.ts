// Hosts (docs/hosts.md): one-time enrolment tokens an admin creates, the enrolment an agent makes
// with one (it gets its own revocable credential), and what an admin does to a host: cordon,
// uncordon, drain (which moves its instances now: a `drain` deployment per environment), revoke.
// Tokens and credentials are stored as SHA-256 hashes only.
import type {
  CreateEnrolmentTokenBody,
  EnrolBody,
  Enrolled,
  EnrolmentToken,
  Host,
} from '@qubot/api-contract';
import {
  appendAudit,
  type EnvironmentRepo,
  type HostRepo,
  page,
  TRANSACTION_MAX_WAIT_MS,
  type Transact,
  type Tx,
} from '@qubot/db';
import { notifyCredentialsChanged } from '../events/revocation.ts';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { randomSecret, sha256 } from '../lib/password.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { appendHostUpdated, hostState, hostView } from '../views/host-events.ts';
import type { DeploymentCommandService } from './deployment-command-service.ts';
import { withCursor } from './with-cursor.ts';

export { hostState, hostView };

/** Prefixes that say what a secret is when it turns up in a log or a paste. */
export const ENROLMENT_TOKEN_PREFIX = 'qhe_';
export const HOST_CREDENTIAL_PREFIX = 'qha_';

type HostRow = Awaited<ReturnType<HostRepo['findHost']>> & {};
const iso = (d: Date | null) => d?.toISOString() ?? null;

type TokenRow = Awaited<ReturnType<HostRepo['findToken']>> & {};

export function enrolmentTokenView(t: TokenRow, now = Date.now()): EnrolmentToken {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    status: t.revokedAt ? 'revoked' : t.usedAt ? 'used' : t.expiresAt.getTime() <= now ? 'expired' : 'active',
    createdBy: t.createdBy.username,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    usedAt: iso(t.usedAt),
    revokedAt: iso(t.revokedAt),
    host: t.host?.name ?? null,
  };
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'P2002';

export type HostAction = 'cordon' | 'uncordon' | 'drain' | 'revoke';
/** Each action's audit entry (written as `action:` so the audit-action check finds them). */
const AUDITED = {
  cordon: { action: 'host.cordon' },
  uncordon: { action: 'host.uncordon' },
  drain: { action: 'host.drain' },
  revoke: { action: 'host.revoke' },
} as const;

const TX = { timeout: 15_000, maxWait: TRANSACTION_MAX_WAIT_MS };

export function createHostService(deps: {
  transact: Transact;
  hosts: HostRepo;
  environments: Pick<EnvironmentRepo, 'lock'>;
  deploymentCommands: Pick<DeploymentCommandService, 'scaleIn'>;
  orchestrator: Pick<OrchestratorPort, 'wake'>;
}) {
  const { transact, hosts } = deps;

  /**
   * A drain moves the host's instances now (docs/hosts.md "Draining a host"), inside the
   * transaction that marks it draining and holds its row: each environment with instances there
   * gets a `drain` deployment of its live release, created under that environment's row lock (the
   * one-active-deployment rule: against a deployment at the same moment exactly one proceeds).
   * Refused (409, nothing changes) when the other ready hosts cannot take them, or when an
   * environment cannot start one now. Returns the drains to wake after the commit.
   */
  async function drainIn(
    ctx: RequestContext,
    tx: Tx,
    host: HostRow,
    reason: string | null,
  ): Promise<string[]> {
    const envs = await hosts.environmentsOn(host.id, tx);
    const onHosts = envs.filter((e) => e.placement === 'hosts');
    const needed = onHosts.reduce((n, e) => n + e.instances, 0);
    if (needed > 0) {
      // In turn: the transaction's one connection runs one statement at a time.
      const all = await hosts.listHosts(tx);
      const counts = await hosts.instanceCounts(tx);
      const free = all
        .filter(
          (h) =>
            h.id !== host.id && h.scheduling === 'schedulable' && h.connected && !h.lostAt && !h.revokedAt,
        )
        .reduce((n, h) => n + Math.max(0, h.capacity - (counts.get(h.id) ?? 0)), 0);
      if (free < needed)
        throw AppError.conflict(
          `no other host has room for the ${needed} instance(s) on ${host.name}: the ready hosts have ${free} free place(s); enrol or uncordon a host, or raise a capacity, then drain again`,
          { field: 'params.id', reason: 'no_capacity', needed, free },
        );
    }
    const ids: string[] = [];
    // Environments in id order: two drains lock them in the same order.
    for (const e of envs) {
      const locked = await deps.environments.lock(e.id, tx);
      const id = await deps.deploymentCommands.scaleIn(
        ctx,
        tx,
        { app: e.application, locked },
        {
          replicas: locked.replicas,
          reason,
          auditAction: 'environment.drain',
          drain: { hostId: host.id, host: host.name },
        },
      );
      if (id) ids.push(id);
    }
    return ids;
  }

  async function viewOf(id: string): Promise<Host> {
    const row = await hosts.findHost(id);
    if (!row) throw AppError.notFound(`host ${id}`, { field: 'params.id' });
    const counts = await hosts.instanceCounts();
    return hostView(row, counts.get(id) ?? 0);
  }

  return {
    async listTokens(
      ctx: RequestContext,
      query: { cursor?: string | undefined; limit?: number | undefined },
    ) {
      requirePermission(ctx, 'settings.manage');
      const limit = query.limit ?? 50;
      const rows = await withCursor(() => hosts.listTokens(limit, query.cursor));
      const p = page(rows, limit);
      return { items: p.items.map((t) => enrolmentTokenView(t)), nextCursor: p.nextCursor };
    },

    /** Returns the secret once; only its SHA-256 is stored. */
    async createToken(
      ctx: RequestContext,
      body: CreateEnrolmentTokenBody,
    ): Promise<{ token: EnrolmentToken; secret: string }> {
      requirePermission(ctx, 'settings.manage');
      const userId = ctx.actor.userId;
      if (!userId)
        throw new AppError(
          ErrorCode.Forbidden,
          'forbidden: only a signed-in user can create enrolment tokens',
        );
      const secret = `${ENROLMENT_TOKEN_PREFIX}${randomSecret()}`;
      const expiresAt = new Date(Date.now() + (body.expiresInMinutes ?? 60) * 60_000);
      const row = await transact(async (tx) => {
        const created = await hosts.createToken(
          {
            name: body.name,
            tokenHash: sha256(secret),
            prefix: secret.slice(0, ENROLMENT_TOKEN_PREFIX.length + 6),
            createdById: userId,
            expiresAt,
          },
          tx,
        );
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'host.enrolment_token.create',
          targetType: 'enrolment_token',
          targetId: created.id,
          target: body.name,
          after: { name: body.name, expiresAt: expiresAt.toISOString() },
        });
        return created;
      });
      return { token: enrolmentTokenView(row), secret };
    },

    /** An unused token stops working at once; revoking twice (or a used token) changes nothing. */
    async revokeToken(ctx: RequestContext, id: string): Promise<EnrolmentToken> {
      requirePermission(ctx, 'settings.manage');
      return transact(async (tx) => {
        const row = await hosts.findToken(id, tx);
        if (!row) throw AppError.notFound(`enrolment token ${id}`, { field: 'params.id' });
        if (row.revokedAt) return enrolmentTokenView(row);
        const updated = await hosts.revokeToken(id, tx);
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'host.enrolment_token.revoke',
          targetType: 'enrolment_token',
          targetId: id,
          target: row.name,
        });
        return enrolmentTokenView(updated);
      });
    },

    /**
     * POST /agent/enrol (no session: the one-time token is the credential). Uses the token up
     * (of concurrent enrolments with one token exactly one succeeds) and creates the host with its
     * own credential, in one transaction: a failure leaves the token unused.
     */
    async enrol(ctx: RequestContext, body: EnrolBody): Promise<Enrolled> {
      const tokenHash = sha256(body.token);
      const credential = `${HOST_CREDENTIAL_PREFIX}${randomSecret()}`;
      try {
        return await transact(async (tx) => {
          const claimed = await hosts.claimToken(tokenHash, new Date(), tx);
          if (!claimed) {
            const known = await hosts.findTokenByHash(tokenHash, tx);
            const why = !known
              ? 'is not valid'
              : known.revokedAt
                ? 'was revoked'
                : known.usedAt
                  ? 'was already used'
                  : 'has expired';
            throw new AppError(ErrorCode.Unauthenticated, `the enrolment token ${why}`, {
              field: 'body.token',
            });
          }
          const host = await hosts.createHost(
            {
              name: body.name,
              address: body.address,
              credentialHash: sha256(credential),
              credentialPrefix: credential.slice(0, HOST_CREDENTIAL_PREFIX.length + 6),
              capacity: body.capacity ?? 8,
              agentVersion: body.agentVersion,
            },
            tx,
          );
          await hosts.linkToken(claimed.id, host.id, tx);
          await appendAudit(tx, {
            ...ctx.auditFields(),
            actor: `host:${body.name}`,
            action: 'host.enrol',
            targetType: 'host',
            targetId: host.id,
            target: body.name,
            after: { address: body.address, capacity: host.capacity, agentVersion: body.agentVersion },
          });
          await appendHostUpdated(tx, host.id);
          return { hostId: host.id, name: host.name, credential };
        });
      } catch (err) {
        if (isUniqueViolation(err))
          throw AppError.conflict(`a host named "${body.name}" is already enrolled`, {
            field: 'body.name',
            reason: 'exists',
          });
        throw err;
      }
    },

    async list(ctx: RequestContext): Promise<{ items: Host[]; nextCursor: null }> {
      requirePermission(ctx, 'settings.manage');
      const [rows, counts] = await Promise.all([hosts.listHosts(), hosts.instanceCounts()]);
      return { items: rows.map((h) => hostView(h, counts.get(h.id) ?? 0)), nextCursor: null };
    },

    get(ctx: RequestContext, id: string): Promise<Host> {
      requirePermission(ctx, 'settings.manage');
      return viewOf(id);
    },

    /**
     * Cordon (no new instances), uncordon, drain (no new instances, and its instances are moved
     * now: `drainIn`), revoke (the agent's credential stops working; its connection closes).
     * Idempotent: the same action again changes nothing and writes no audit entry.
     */
    async act(ctx: RequestContext, id: string, action: HostAction, reason?: string): Promise<Host> {
      requirePermission(ctx, 'settings.manage');
      const drains = await transact(async (tx): Promise<string[]> => {
        const before = await hosts.lockHost(id, tx);
        if (!before) throw AppError.notFound(`host ${id}`, { field: 'params.id' });
        if (before.revokedAt && action !== 'revoke')
          throw AppError.conflict(`host ${before.name} was revoked; enrol it again with a new token`, {
            field: 'params.id',
            reason: 'revoked',
          });
        const scheduling =
          action === 'uncordon' ? 'schedulable' : action === 'cordon' ? 'cordoned' : 'draining';
        const data: { scheduling?: string; revokedAt?: Date; connected?: boolean } | null =
          action === 'revoke'
            ? before.revokedAt
              ? null
              : { revokedAt: new Date(), connected: false }
            : scheduling === before.scheduling
              ? null
              : { scheduling };
        if (!data) return [];
        // The host takes no new instance from here on (placement reads the row); then the moves.
        await hosts.updateHost(id, data, tx);
        const moved = action === 'drain' ? await drainIn(ctx, tx, before, reason?.trim() || null) : [];
        // The agent's connection closes on commit, in whichever API process holds it.
        if (action === 'revoke') await notifyCredentialsChanged(tx, { reason: 'host.revoke', hostId: id });
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: AUDITED[action].action,
          targetType: 'host',
          targetId: id,
          target: before.name,
          reason: reason?.trim() || null,
          before: { state: hostState(before), scheduling: before.scheduling },
          after: {
            state: hostState({ ...before, ...data }),
            scheduling: data.scheduling ?? before.scheduling,
            ...(action === 'drain' ? { drains: moved } : {}),
          },
        });
        await appendHostUpdated(tx, id);
        return moved;
      }, TX);
      for (const d of drains) await deps.orchestrator.wake(d);
      return viewOf(id);
    },
  };
}
export type HostService = ReturnType<typeof createHostService>;
