import {
  type ConfigDiff,
  type ConfigEntry,
  type ConfigVersion,
  type List,
  type PromotionPreview,
  type PutConfigBody,
  SECRET_MASK,
} from '@qubot/api-contract';
import { previousEnvironment } from '@qubot/core';
import {
  appendAudit,
  appendEvent,
  type ConfigRepo,
  type ConfigVersionRow,
  type DeploymentRepo,
  type EnvironmentRepo,
  type ReleaseRepo,
  type StoredEntries,
  type Transact,
} from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { can, requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { type SecretBox, SecretKeyError } from '../lib/secret-box.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import type { CatalogService } from './catalog-service.ts';
import { diffConfig, type PlainEntries, sameEntries } from './config-diff.ts';
import { configHash } from './effective-config.ts';
import { promotionGate } from './promotion-gate.ts';
import { withCursor } from './with-cursor.ts';

const EMPTY = (version = 0): ConfigVersion => ({
  version,
  entries: [],
  createdBy: null,
  createdAt: null,
  comment: null,
});

const stored = (row: ConfigVersionRow | null): StoredEntries =>
  row && typeof row.entries === 'object' && row.entries !== null ? (row.entries as StoredEntries) : {};

/** Secrets never leave this function in clear: every secret value becomes the mask. */
function versionView(row: ConfigVersionRow): ConfigVersion {
  const entries: ConfigEntry[] = Object.entries(stored(row))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, e]) => ({ key, value: e.secret ? SECRET_MASK : e.value, secret: e.secret }));
  return {
    version: row.version,
    entries,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    comment: row.comment,
  };
}

/** Per-environment versioned configuration (DESIGN §8), and the promotion preview built on it. */
export function createConfigService(deps: {
  transact: Transact;
  configs: Pick<ConfigRepo, 'latest' | 'findVersion' | 'list' | 'create'>;
  environments: Pick<EnvironmentRepo, 'findIdByName' | 'pipeline' | 'pipelineWithLive'>;
  releases: Pick<ReleaseRepo, 'listBetween'>;
  deployments: Pick<DeploymentRepo, 'promotionFacts'>;
  catalog: Pick<CatalogService, 'requireApp' | 'requireEnvironment'>;
  secrets: SecretBox;
}) {
  const { transact, configs: repo } = deps;
  const context = (environmentId: string, key: string) => `${environmentId}/${key}`;
  const open = (sealed: string, environmentId: string, key: string) => {
    try {
      return deps.secrets.decrypt(sealed, context(environmentId, key));
    } catch (err) {
      // Say what to check (the operator's key), not how the value is stored.
      if (err instanceof SecretKeyError)
        throw new AppError(
          ErrorCode.Internal,
          `the stored secret ${key} cannot be decrypted with this server's key (QUBOT_SECRET_KEY or secret.key)`,
        );
      throw err;
    }
  };

  function decrypt(environmentId: string, entries: StoredEntries): PlainEntries {
    const out: PlainEntries = {};
    for (const [key, e] of Object.entries(entries))
      out[key] = {
        secret: e.secret,
        value: e.secret ? open(e.value, environmentId, key) : e.value,
        ...(e.secret ? { sealed: e.value } : {}),
      };
    return out;
  }

  /**
   * Who may learn whether two secret values are equal: admins only. No API reads a secret, but an
   * admin sets the launchers — command templates run on the worker's machine, which holds the
   * secret key and the database — so an admin can read every secret anyway. Anyone else would
   * turn a diff into an oracle (write a guess, see whether the key drops out).
   */
  const secretOptions = (ctx: RequestContext) => ({ compareSecrets: can(ctx.actor, 'settings.manage') });

  async function requireVersion(environmentId: string, version: number, label: string, field: string) {
    if (version === 0) return null;
    const row = await repo.findVersion(environmentId, version);
    if (!row) throw AppError.notFound(`configuration version ${version} of ${label}`, { field });
    return row;
  }

  async function readScope(ctx: RequestContext, appName: string, envName: string) {
    requirePermission(ctx, 'read', { application: appName });
    return deps.catalog.requireEnvironment(appName, envName);
  }

  async function currentPlain(environmentId: string) {
    const row = await repo.latest(environmentId);
    return { version: row?.version ?? 0, entries: decrypt(environmentId, stored(row)) };
  }

  return {
    async current(ctx: RequestContext, appName: string, envName: string): Promise<ConfigVersion> {
      const { env } = await readScope(ctx, appName, envName);
      const row = await repo.latest(env.id);
      return row ? versionView(row) : EMPTY();
    },

    async listVersions(
      ctx: RequestContext,
      appName: string,
      envName: string,
      q: { cursor?: string | undefined; limit?: number | undefined },
    ): Promise<List<ConfigVersion>> {
      const { env } = await readScope(ctx, appName, envName);
      const res = await withCursor(() => repo.list(env.id, { cursor: q.cursor, limit: q.limit ?? 50 }));
      return { items: res.items.map(versionView), nextCursor: res.nextCursor };
    },

    async getVersion(
      ctx: RequestContext,
      appName: string,
      envName: string,
      version: number,
    ): Promise<ConfigVersion> {
      const { env } = await readScope(ctx, appName, envName);
      const row = await requireVersion(env.id, version, `${appName}/${envName}`, 'params.version');
      return row ? versionView(row) : EMPTY();
    },

    /**
     * Write version N+1 from the full list of entries (keys not sent are removed). A secret sent
     * without a value, or with the mask, keeps its stored value. Nothing changed: the current
     * version is returned and no version is created (`created: false`), so a retry is harmless.
     */
    async put(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: PutConfigBody,
    ): Promise<{ created: boolean; config: ConfigVersion }> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'config.write', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      try {
        return await transact(async (tx) => {
          const prevRow = await repo.latest(env.id, tx);
          const prevVersion = prevRow?.version ?? 0;
          if (body.baseVersion !== undefined && body.baseVersion !== prevVersion) {
            throw AppError.conflict(
              `the configuration of ${env.name} changed meanwhile (now version ${prevVersion}, this edit started from ${body.baseVersion}); reload and try again`,
              { field: 'body.baseVersion', current: prevVersion },
            );
          }
          const prev = stored(prevRow);
          const next: StoredEntries = {};
          const nextPlain: PlainEntries = {};
          body.entries.forEach((entry, i) => {
            const field = `body.entries[${i}]`;
            if (entry.key in next) throw AppError.badField(`${field}.key`, `duplicates key ${entry.key}`);
            const before = prev[entry.key];
            const secret = entry.secret ?? before?.secret ?? false;
            const keep = entry.value === undefined || entry.value === SECRET_MASK;
            if (secret && keep) {
              if (!before?.secret)
                throw AppError.badField(`${field}.value`, 'is required: there is no stored secret to keep');
              next[entry.key] = before;
              nextPlain[entry.key] = {
                secret: true,
                value: open(before.value, env.id, entry.key),
                sealed: before.value,
              };
              return;
            }
            if (entry.value === undefined) throw AppError.badField(`${field}.value`, 'is required');
            if (entry.value === SECRET_MASK)
              throw AppError.badField(
                `${field}.value`,
                'is the mask of a secret; send secret: true to keep the stored secret',
              );
            const value = secret
              ? deps.secrets.encrypt(entry.value, context(env.id, entry.key))
              : entry.value;
            next[entry.key] = { secret, value };
            nextPlain[entry.key] = { secret, value: entry.value, ...(secret ? { sealed: value } : {}) };
          });
          const prevPlain = decrypt(env.id, prev);
          // "Nothing changed" (200, no new version) must not confirm a guessed secret either.
          if (prevRow && sameEntries(prevPlain, nextPlain, secretOptions(ctx)))
            return { created: false, config: versionView(prevRow) };

          const version = prevVersion + 1;
          const row = await repo.create(
            {
              environmentId: env.id,
              version,
              entries: next,
              createdBy: ctx.actor.name,
              comment: body.comment?.trim() || null,
              configHash: configHash(
                deps.secrets,
                Object.fromEntries(Object.entries(nextPlain).map(([k, e]) => [k, e.value])),
              ),
            },
            tx,
          );
          // Key names only: neither values nor secrets reach the audit trail. Viewers read the
          // event, so a secret written afresh is "changed" whatever its value.
          const diff = diffConfig(
            prevPlain,
            nextPlain,
            {
              from: { environment: env.name, version: prevVersion },
              to: { environment: env.name, version },
            },
            { compareSecrets: false },
          );
          const keys = (d: { key: string }[]) => d.map((e) => e.key);
          const changed = [...keys(diff.changed), ...keys(diff.notCompared)].sort();
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'config.update',
            targetType: 'environment',
            targetId: env.id,
            target: `${app.name}/${env.name}`,
            reason: row.comment,
            before: { version: prevVersion, keys: Object.keys(prev).sort() },
            after: {
              version,
              keys: Object.keys(next).sort(),
              added: keys(diff.added),
              removed: keys(diff.removed),
              changed,
            },
          });
          await appendEvent(tx, {
            type: 'config.updated',
            applicationId: app.id,
            environmentId: env.id,
            payload: {
              application: app.name,
              environment: env.name,
              version,
              createdBy: row.createdBy,
              added: keys(diff.added),
              removed: keys(diff.removed),
              changed,
            },
          });
          // Running instances now differ from the configuration: cards show the drift.
          await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
          return { created: true, config: versionView(row) };
        });
      } catch (err) {
        // Two writers raced for version N+1: the loser is told to reload.
        if ((err as { code?: string }).code === 'P2002')
          throw AppError.conflict(`the configuration of ${env.name} changed meanwhile; reload and try again`);
        throw err;
      }
    },

    async diffVersions(
      ctx: RequestContext,
      appName: string,
      envName: string,
      from: number,
      to: number,
    ): Promise<ConfigDiff> {
      const { env } = await readScope(ctx, appName, envName);
      const label = `${appName}/${envName}`;
      const a = await requireVersion(env.id, from, label, 'querystring.from');
      const b = await requireVersion(env.id, to, label, 'querystring.to');
      return diffConfig(
        decrypt(env.id, stored(a)),
        decrypt(env.id, stored(b)),
        {
          from: { environment: env.name, version: from },
          to: { environment: env.name, version: to },
        },
        secretOptions(ctx),
      );
    },

    /** The current configuration of two environments of one application, compared. */
    async diffEnvironments(
      ctx: RequestContext,
      appName: string,
      fromEnv: string,
      toEnv: string,
    ): Promise<ConfigDiff> {
      requirePermission(ctx, 'read', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const find = async (name: string, field: string) => {
        const env = await deps.environments.findIdByName(app.id, name);
        if (!env) throw AppError.notFound(`environment "${name}" of "${appName}"`, { field });
        return env;
      };
      const a = await find(fromEnv, 'querystring.from');
      const b = await find(toEnv, 'querystring.to');
      const [pa, pb] = [await currentPlain(a.id), await currentPlain(b.id)];
      return diffConfig(
        pa.entries,
        pb.entries,
        {
          from: { environment: a.name, version: pa.version },
          to: { environment: b.name, version: pb.version },
        },
        secretOptions(ctx),
      );
    },

    /**
     * What promoting into `envName` would do: the versions, the releases registered in between
     * (their changelogs) and how the two environments' configuration differs.
     */
    async promotionPreview(ctx: RequestContext, appName: string, envName: string): Promise<PromotionPreview> {
      const { app, env } = await readScope(ctx, appName, envName);
      const pipeline = await deps.environments.pipelineWithLive(app.id);
      const prevName = previousEnvironment(pipeline, env.name);
      const source = pipeline.find((e) => e.name === prevName);
      const target = pipeline.find((e) => e.name === env.name);
      if (!source || !target)
        throw AppError.conflict(`${env.name} is the first environment: there is nothing to promote from`, {
          reason: 'first_environment',
        });
      const live = source.liveRelease;
      const current = target.liveRelease;
      const releases = live
        ? await deps.releases.listBetween(app.id, { upTo: live.createdAt, after: current?.createdAt })
        : [];
      const [pa, pb] = [await currentPlain(source.id), await currentPlain(target.id)];
      const config = diffConfig(
        pa.entries,
        pb.entries,
        {
          from: { environment: source.name, version: pa.version },
          to: { environment: target.name, version: pb.version },
        },
        secretOptions(ctx),
      );

      // The same rules as the promotion itself (promotion order, verification gate).
      const gate = live
        ? await promotionGate(deps, {
            applicationId: app.id,
            environment: { id: target.id, name: target.name, protected: env.protected },
            release: live,
          })
        : null;
      let reason: string | null = null;
      if (!live) reason = `nothing is live in ${source.name} to promote`;
      else if (current?.id === live.id) reason = `${live.version} is already live in ${target.name}`;
      else {
        if (gate?.blocked) reason = `${gate.blocked.message}; an admin can override with a reason`;
        else if (!can(ctx.actor, 'promote', { application: app.name, environment: env }))
          reason = `your role (${ctx.actor.role}) cannot promote to ${env.name}: needs release-manager`;
      }
      return {
        from: { environment: source.name, version: live?.version ?? null },
        to: { environment: target.name, version: current?.version ?? null },
        releases: releases.map((r) => ({
          version: r.version,
          changelog: r.changelog,
          createdAt: r.createdAt.toISOString(),
        })),
        config,
        allowed: reason === null,
        reason,
        verification: gate?.verification ?? null,
      };
    },
  };
}
export type ConfigService = ReturnType<typeof createConfigService>;
