import {
  type AuditFilter,
  type AuditInput,
  type AuditRow,
  appendAudit,
  createAuditRepo,
  encodeCursor,
} from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { createTestDatabase } from '../../../../test/db.ts';
import { CSV_PAGE_ROWS, csvCell } from '../services/audit-service.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
  // A known trail: 5 deployment entries on qubot-one/production, 3 on staging, one hostile.
  for (let i = 0; i < 8; i++) {
    await appendAudit(t.db.prisma, {
      actor: i % 2 ? 'alice' : 'bob',
      role: 'release-manager',
      action: i < 5 ? 'deployment.create' : 'deployment.rollback',
      targetType: 'deployment',
      target: i < 5 ? `qubot-one/production/d${i}` : `qubot-one/staging/d${i}`,
      reason: i === 0 ? '=HYPERLINK("http://evil","click"), "quoted"\nnext line' : null,
    });
  }
});
afterAll(async () => {
  await t.close();
});

const get = async (
  url: string,
  role: 'viewer' | 'deployer' | 'release-manager' | 'admin' = 'release-manager',
) => t.app.inject({ method: 'GET', url, headers: await t.as(role) });

describe('[security] audit trail', () => {
  it('is readable by release-managers and admins only', async () => {
    expect((await get('/api/v1/audit', 'viewer')).statusCode).toBe(403);
    expect((await get('/api/v1/audit', 'deployer')).statusCode).toBe(403);
    expect((await get('/api/v1/audit.csv', 'deployer')).statusCode).toBe(403);
    expect((await get('/api/v1/audit', 'admin')).statusCode).toBe(200);
  });

  it('filters by actor, action (exact or prefix), app and env, and pages with a cursor', async () => {
    const prod = (await get('/api/v1/audit?env=production&limit=2')).json();
    expect(prod.items).toHaveLength(2);
    expect(prod.items.map((e: { target: string }) => e.target)).toEqual([
      'qubot-one/production/d4',
      'qubot-one/production/d3',
    ]);
    const seen = [...prod.items];
    let cursor = prod.nextCursor;
    while (cursor) {
      const page = (await get(`/api/v1/audit?env=production&limit=2&cursor=${cursor}`)).json();
      seen.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(seen.map((e) => e.target)).toEqual([4, 3, 2, 1, 0].map((i) => `qubot-one/production/d${i}`));
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);
    const staging = (await get('/api/v1/audit?app=qubot-one&env=staging')).json();
    expect(staging.items).toHaveLength(3);
    const alice = (await get('/api/v1/audit?actor=alice&action=deployment.')).json();
    expect(alice.items).toHaveLength(4);
    expect((await get('/api/v1/audit?action=deployment.rollback')).json().items).toHaveLength(3);
    const future = (await get(`/api/v1/audit?from=${new Date(Date.now() + 60_000).toISOString()}`)).json();
    expect(future.items).toEqual([]);
    expect((await get('/api/v1/audit?cursor=garbage')).json().error.details.field).toBe('querystring.cursor');
    // A well-formed cursor of another list (a uuid where the trail's ids are numbers) is malformed here.
    const foreign = encodeCursor({ createdAt: new Date(), id: '0b6f2c1e-8a7d-4c53-9d1b-2f3e4a5b6c7d' });
    const refused = await get(`/api/v1/audit?cursor=${foreign}`);
    expect([refused.statusCode, refused.json().error.details.field]).toEqual([400, 'querystring.cursor']);
    expect((await get('/api/v1/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z')).statusCode).toBe(
      400,
    );
  });

  it('exports CSV with quoting and spreadsheet-formula protection', async () => {
    const res = await get('/api/v1/audit.csv?env=production');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="qubot-audit-.*\.csv"/);
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,actor,role,action,targetType,targetId,target,reason,before,after,requestId,clientIp,userAgent,version,deploymentId',
    );
    expect(res.body).toContain(`"'=HYPERLINK(""http://evil"",""click""), ""quoted""\nnext line"`);
    expect(res.body.split('qubot-one/production/').length - 1).toBe(5);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
    expect(csvCell(null)).toBe('');
  });

  it('streams a long CSV a page at a time: every row once, newest first, across page boundaries', async () => {
    // 2,500 entries with the same action, some sharing a timestamp (the keyset must not skip or
    // repeat rows at a page boundary): 2½ database pages.
    const n = 2 * CSV_PAGE_ROWS + CSV_PAGE_ROWS / 2;
    await t.db.pool.query(
      `INSERT INTO audit_entries (at, actor, role, action, target_type, target)
       SELECT timestamptz '2026-03-01T00:00:00Z' + make_interval(secs => i / 3), 'carol', 'deployer',
              'test.bulk', 'environment', 'qubot-one/development/' || i
       FROM generate_series(1, $1::int) AS i`,
      [n],
    );
    const res = await get('/api/v1/audit.csv?action=test.bulk');
    expect(res.statusCode).toBe(200);
    // Streamed: sent chunked, with no length known up front.
    expect(res.headers['content-length']).toBeUndefined();
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(n + 1);
    const targets = lines.slice(1).map((l) => Number(/qubot-one\/development\/(\d+)/.exec(l)?.[1]));
    expect(new Set(targets).size).toBe(n);
    // Newest first: timestamps never increase down the file.
    const ats = lines.slice(1).map((l) => Date.parse(l.split(',')[1] ?? ''));
    expect(ats.every((at, i) => i === 0 || at <= (ats[i - 1] as number))).toBe(true);
  });

  it('names the release version of an entry and can leave sign-ins out', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: await t.as('release-manager'),
      payload: { version: '9.9.9-Audit', artifact: 'qubot-one/healthy' },
    });
    expect(created.statusCode).toBe(201);
    const entry = (await get('/api/v1/audit?action=release.create')).json().items[0];
    expect(entry).toMatchObject({
      target: 'qubot-one@9.9.9-Audit',
      version: '9.9.9-Audit',
      deploymentId: null,
    });
    const deployments = (await get('/api/v1/audit?action=deployment.')).json().items;
    expect(deployments.every((e: { version: string | null }) => e.version === null)).toBe(true);
    // Every role above signed in, so the trail holds sign-ins; hideSignIns leaves them out.
    const all = (await get('/api/v1/audit?limit=200')).json().items as { action: string }[];
    expect(all.some((e) => e.action === 'auth.login')).toBe(true);
    const hidden = (await get('/api/v1/audit?limit=200&hideSignIns=true')).json().items as {
      action: string;
    }[];
    expect(hidden.length).toBeGreaterThan(0);
    expect(hidden.some((e) => e.action.startsWith('auth.'))).toBe(false);
    expect((await get('/api/v1/audit?hideSignIns=maybe')).statusCode).toBe(400);
  });

  it('records login and user changes in the same transaction as the change', async () => {
    const before = await t.db.prisma.auditEntry.count({ where: { action: 'user.create' } });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: await t.as('admin'),
      payload: { username: 'dave', role: 'viewer' },
    });
    expect(res.statusCode).toBe(201);
    const entry = await t.db.prisma.auditEntry.findFirstOrThrow({
      where: { action: 'user.create', target: 'dave' },
    });
    expect(entry).toMatchObject({
      actor: 'admin',
      role: 'admin',
      targetType: 'user',
      requestId: expect.any(String),
    });
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'user.create' } })).toBe(before + 1);
    // A failing change (duplicate) writes nothing.
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: await t.as('admin'),
      payload: { username: 'dave', role: 'viewer' },
    });
    expect(await t.db.prisma.auditEntry.count({ where: { action: 'user.create' } })).toBe(before + 1);
  });
});

describe('[API] audit reads: every path answers a filter with the entries it names', () => {
  it('through the pg pool, inside a transaction and without a pool: the same known rows, newest first', async () => {
    // A database of its own, so the expected lists below are the whole trail. The entries come from
    // the producer every action writes with; among them names with LIKE wildcards (`_`, `%`) that a
    // filter must match literally, sign-ins, and JSON before/after.
    const db = await createTestDatabase();
    try {
      const input: AuditInput[] = [
        {
          actor: 'alice',
          action: 'deployment.create',
          targetType: 'deployment',
          target: 'qubot-one/production/d0',
        },
        {
          actor: 'bob',
          action: 'deployment.create',
          targetType: 'deployment',
          target: 'qubot-one/staging/d1',
        },
        {
          actor: 'alice',
          action: 'deployment.rollback',
          targetType: 'environment',
          target: 'qubot-one/production',
        },
        { actor: 'carol', action: 'auth.login', targetType: 'user', target: 'carol' },
        {
          actor: 'carol',
          action: 'config.set',
          targetType: 'environment',
          target: 'qubot_one/production',
          before: { replicas: 2 },
          after: { replicas: 3, note: 'x' },
        },
        { actor: 'bob', action: 'release.create', targetType: 'release', target: 'qubot-one@1.0.0' },
        {
          actor: 'alice',
          action: 'deployment.abort',
          targetType: 'deployment',
          target: 'qubot-one/pre_prod/d6',
        },
        {
          actor: 'bob',
          action: 'deployment.create',
          targetType: 'deployment',
          target: 'qubot-one/preXprod/d7',
        },
        { actor: 'alice', action: 'auth.logout', targetType: 'user', target: 'alice' },
        {
          actor: 'carol',
          action: 'deployment.create',
          targetType: 'deployment',
          target: 'other-app/production/d9',
        },
      ];
      const e: AuditRow[] = [];
      // None of these targets is a deployment or a release by id: no version.
      for (const entry of input) e.push({ ...(await appendAudit(db.prisma, entry)), version: null });
      const row = (i: number) => e[i] as AuditRow;
      const pick = (...ids: number[]) => ids.map(row);
      const at = (i: number) => row(i).at;
      const withPool = createAuditRepo(db.prisma, { pool: db.pool });
      const withoutPool = createAuditRepo(db.prisma);
      const cases: [AuditFilter, number, AuditRow[]][] = [
        [{}, 20, pick(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)],
        [{}, 3, pick(9, 8, 7)],
        [{ actor: 'alice' }, 20, pick(8, 6, 2, 0)],
        [{ action: 'deployment.create' }, 20, pick(9, 7, 1, 0)],
        [{ action: 'deployment.' }, 20, pick(9, 7, 6, 2, 1, 0)],
        [{ action: 'deploymen_.' }, 20, []],
        [{ action: 'config.' }, 20, pick(4)],
        [{ app: 'qubot-one' }, 20, pick(7, 6, 5, 2, 1, 0)],
        // `_` is a literal: as a wildcard it would also match every `qubot-one/…` entry.
        [{ app: 'qubot_one' }, 20, pick(4)],
        [{ app: 'qubot-one', env: 'production' }, 20, pick(2, 0)],
        [{ env: 'production' }, 20, pick(9, 4, 2, 0)],
        [{ app: 'qubot-one', env: 'pre_prod' }, 20, pick(6)],
        [{ env: 'pre_prod' }, 20, pick(6)],
        [{ env: 'prod%' }, 20, []],
        [{ hideSignIns: true }, 20, pick(9, 7, 6, 5, 4, 2, 1, 0)],
        [
          { from: at(2).toISOString(), to: at(7).toISOString() },
          20,
          // Entries written in the same millisecond share a timestamp: the window is by time.
          e.filter((x) => x.at >= at(2) && x.at < at(7)).reverse(),
        ],
        [{ cursor: withPool.cursorAfter(row(5)) }, 20, pick(4, 3, 2, 1, 0)],
        [{ cursor: withPool.cursorAfter(row(5)), actor: 'bob', hideSignIns: true }, 20, pick(1)],
        [{ cursor: withPool.cursorAfter(row(8)), action: 'deployment.' }, 2, pick(7, 6)],
      ];
      expect(cases[15]?.[2].length).toBeGreaterThan(0);
      for (const [filter, take, expected] of cases) {
        const label = JSON.stringify(filter);
        expect(await withPool.find(filter, take), `pool ${label}`).toEqual(expected);
        expect(await withoutPool.find(filter, take), `no pool ${label}`).toEqual(expected);
        const inTx = await db.prisma.$transaction((tx) => withPool.find(filter, take, tx));
        expect(inTx, `transaction ${label}`).toEqual(expected);
      }
    } finally {
      await db.drop();
    }
  });
});
