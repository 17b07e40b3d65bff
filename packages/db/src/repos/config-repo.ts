import type { Db } from '../client.ts';
import { afterCursor, newestFirst, page } from '../cursor.ts';
import type { Prisma } from '../generated/client.ts';

/** Stored form of a version's entries: `{ KEY: { value, secret } }`, secret values encrypted. */
export type StoredEntries = Record<string, { value: string; secret: boolean }>;

export interface ConfigVersionRow {
  id: string;
  environmentId: string;
  version: number;
  entries: unknown;
  createdBy: string;
  comment: string | null;
  configHash?: string | null;
  createdAt: Date;
}

/** Configuration versions (table config_versions). Every method takes an optional transaction. */
export function createConfigRepo(root: Db) {
  return {
    async latest(environmentId: string, db: Db = root): Promise<ConfigVersionRow | null> {
      return db.configVersion.findFirst({ where: { environmentId }, orderBy: { version: 'desc' } });
    },
    async findVersion(
      environmentId: string,
      version: number,
      db: Db = root,
    ): Promise<ConfigVersionRow | null> {
      return db.configVersion.findUnique({ where: { environmentId_version: { environmentId, version } } });
    },
    async list(
      environmentId: string,
      q: { cursor?: string | undefined; limit: number },
      db: Db = root,
    ): Promise<{ items: ConfigVersionRow[]; nextCursor: string | null }> {
      const rows = await db.configVersion.findMany({
        where: { environmentId, ...afterCursor(q.cursor) },
        orderBy: newestFirst,
        take: q.limit + 1,
      });
      return page(rows, q.limit);
    },
    async create(
      data: {
        environmentId: string;
        version: number;
        entries: StoredEntries;
        createdBy: string;
        comment: string | null;
        configHash?: string | null;
      },
      db: Db = root,
    ): Promise<ConfigVersionRow> {
      return db.configVersion.create({ data: { ...data, entries: data.entries as Prisma.InputJsonValue } });
    },
    findById(id: string, db: Db = root): Promise<ConfigVersionRow | null> {
      return db.configVersion.findUnique({ where: { id } });
    },
    /** Records a version's hash once computed (versions written before hashes existed). */
    async setHash(id: string, configHash: string, db: Db = root): Promise<void> {
      await db.configVersion.updateMany({ where: { id, configHash: null }, data: { configHash } });
    },
  };
}
export type ConfigRepo = ReturnType<typeof createConfigRepo>;
