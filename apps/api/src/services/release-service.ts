import type { CreateReleaseBody, List, Release } from '@qubot/api-contract';
import { appendAudit, appendEvent, type ReleaseRepo, type Transact } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { releaseView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { ViewCache } from './view-cache.ts';
import { withCursor } from './with-cursor.ts';

export function createReleaseService(deps: {
  transact: Transact;
  releases: Pick<ReleaseRepo, 'list' | 'findByVersion' | 'create'>;
  catalog: Pick<CatalogService, 'requireApp'>;
  /** Serialised pages kept while no event moved (view-cache.ts); none: every read builds. */
  views?: Pick<ViewCache, 'get'>;
}) {
  return {
    /** `list` as the serialised response body, from the view cache while nothing changed. */
    async listBody(
      appName: string,
      q: { cursor?: string | undefined; limit?: number | undefined },
      serialize: (v: unknown) => string,
    ): Promise<Buffer> {
      const build = async () => Buffer.from(serialize(await this.list(appName, q)));
      const key = `releases\0${appName}\0${q.cursor ?? ''}\0${q.limit ?? ''}`;
      return deps.views ? deps.views.get(key, build) : build();
    },
    async list(
      appName: string,
      q: { cursor?: string | undefined; limit?: number | undefined },
    ): Promise<List<Release>> {
      const app = await deps.catalog.requireApp(appName);
      const res = await withCursor(() =>
        deps.releases.list(app.id, { cursor: q.cursor, limit: q.limit ?? 50 }),
      );
      return { items: res.items.map(releaseView), nextCursor: res.nextCursor };
    },
    async get(appName: string, version: string): Promise<Release> {
      const app = await deps.catalog.requireApp(appName);
      const row = await deps.releases.findByVersion(app.id, version);
      if (!row) throw AppError.notFound(`release "${version}" of "${appName}"`, { field: 'params.version' });
      return releaseView(row);
    },
    /**
     * Register a release from CI. Sending the same version and artifact again
     * returns the existing release (created: false); a different artifact for a
     * known version is a conflict — releases are immutable.
     */
    async create(
      ctx: RequestContext,
      appName: string,
      body: CreateReleaseBody,
    ): Promise<{ created: boolean; release: Release }> {
      requirePermission(ctx, 'release.create', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const existing = await deps.releases.findByVersion(app.id, body.version);
      if (existing) {
        if (existing.artifact !== body.artifact) {
          throw AppError.conflict(
            `release ${body.version} already exists with artifact "${existing.artifact}"; releases are immutable`,
            { field: 'body.artifact' },
          );
        }
        return { created: false, release: releaseView(existing) };
      }
      try {
        const row = await deps.transact(async (tx) => {
          const created = await deps.releases.create(
            {
              applicationId: app.id,
              version: body.version,
              artifact: body.artifact,
              commit: body.commit ?? null,
              changelog: body.changelog ?? null,
              buildUrl: body.buildUrl ?? null,
              testResults: body.testResults ?? null,
              createdBy: ctx.actor.name,
            },
            tx,
          );
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: 'release.create',
            targetType: 'release',
            targetId: created.id,
            target: `${app.name}@${body.version}`,
            after: { version: body.version, artifact: body.artifact },
          });
          await appendEvent(tx, {
            type: 'release.created',
            applicationId: app.id,
            payload: { application: app.name, version: body.version, artifact: body.artifact },
          });
          return created;
        });
        return { created: true, release: releaseView(row) };
      } catch (err) {
        // Two CI jobs registering the same version at once: the loser sees the winner's row.
        if ((err as { code?: string }).code === 'P2002') {
          const winner = await deps.releases.findByVersion(app.id, body.version);
          if (winner && winner.artifact === body.artifact)
            return { created: false, release: releaseView(winner) };
          throw AppError.conflict(`release ${body.version} already exists`, { field: 'body.version' });
        }
        throw err;
      }
    },
  };
}
export type ReleaseService = ReturnType<typeof createReleaseService>;
