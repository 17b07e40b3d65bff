import type { Db } from '../client.ts';
import { afterCursor, newestFirst, page } from '../cursor.ts';
import type { DeploymentStatus } from '../generated/client.ts';

const deploymentView = {
  application: { select: { name: true } },
  environment: { select: { name: true } },
  release: { select: { version: true, artifact: true } },
  fromRelease: { select: { version: true } },
  configVersion: { select: { version: true } },
  steps: { orderBy: { position: 'asc' as const } },
};

export interface DeploymentFilter {
  applicationId?: string | undefined;
  environmentId?: string | undefined;
  status?: DeploymentStatus | undefined;
}

export function createDeploymentRepo(root: Db) {
  return {
    async list(
      filter: DeploymentFilter,
      opts: { cursor?: string | undefined; limit: number },
      db: Db = root,
    ) {
      const rows = await db.deployment.findMany({
        where: {
          ...(filter.applicationId ? { applicationId: filter.applicationId } : {}),
          ...(filter.environmentId ? { environmentId: filter.environmentId } : {}),
          ...(filter.status ? { status: filter.status } : {}),
          ...afterCursor(opts.cursor),
        },
        orderBy: newestFirst,
        take: opts.limit + 1,
        include: deploymentView,
      });
      return page(rows, opts.limit);
    },
    findById(id: string, db: Db = root) {
      return db.deployment.findUnique({ where: { id }, include: deploymentView });
    },
  };
}
export type DeploymentRepo = ReturnType<typeof createDeploymentRepo>;
export type DeploymentViewRow = NonNullable<Awaited<ReturnType<DeploymentRepo['findById']>>>;
