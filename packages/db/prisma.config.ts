// Reference prisma.config.ts that runs Prisma 6.19's CLI with no engine download.
// Verified: `prisma generate`, `prisma migrate deploy`, `prisma migrate status`,
// `prisma migrate diff --from-migrations ... --to-schema-datamodel ... --script`.
// Not working offline: `prisma migrate dev` (use migrate diff + deploy instead).
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { defineConfig } from 'prisma/config';

// @prisma/adapter-pg 6.19 cannot map the catalog types "char" (oid 18) and
// name (oid 19) that the schema engine reads while describing a database.
// Reading them as text (oid 25) is what the engine expects.
const asText = (res: any) => {
  for (const f of res?.fields ?? []) if (f.dataTypeID === 18 || f.dataTypeID === 19) f.dataTypeID = 25;
  return res;
};
class CatalogClient extends pg.Client {
  override query(...args: any[]): any {
    const r = (super.query as any)(...args);
    return r?.then ? r.then(asText) : r;
  }
}
class CatalogPool extends pg.Pool {
  override query(...args: any[]): any {
    return (super.query as any)(...args).then(asText);
  }
}

// Parse DATABASE_URL into fields: with a connectionString, pg ignores a
// `database` override, and the shadow database below needs one.
const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const base = {
  host: url.hostname,
  port: Number(url.port || 5432),
  user: decodeURIComponent(url.username),
  password: decodeURIComponent(url.password),
  database: url.pathname.slice(1),
};
const pool = (database: string) => {
  const p = new CatalogPool({ ...base, database, Client: CatalogClient as any });
  p.on('error', () => {});
  return p;
};

// `migrate diff --from-migrations` replays the migrations into a throwaway
// shadow database. The stock factory drops it while its own pool still holds
// a connection; this one closes the pool first.
class MigratePg extends PrismaPg {
  override async connectToShadowDb() {
    const admin = await this.connect();
    const db = `prisma_shadow_${randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${db}"`);
    const shadow = await new PrismaPg(pool(db), { disposeExternalPool: true }).connect();
    const dispose = shadow.dispose.bind(shadow);
    shadow.dispose = async () => {
      await dispose();
      await admin.executeScript(`DROP DATABASE "${db}" WITH (FORCE)`);
      await admin.dispose();
    };
    return shadow;
  }
}

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: '../../prisma/schema.prisma',
  async adapter() {
    return new MigratePg(pool(base.database), { disposeExternalPool: true });
  },
});
