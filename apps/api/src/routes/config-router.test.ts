// Configuration management (DESIGN §8) and the promotion preview, through the HTTP API.
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { buildApp } from '../app.ts';
import type { RoleName } from '../lib/request-context.ts';
import { createSecretBox } from '../lib/secret-box.ts';

const KEY = randomBytes(32);
const SECRET_1 = 'pg-password-Plain-7f3a9c';
const SECRET_2 = 'pg-password-Rotated-41be2d';
const API_KEY = 'stripe-key-Plain-9c01aa';
const PROD_SECRET = 'prod-db-Password-5e1c77';
const MASK = '••••••';

let t: Awaited<ReturnType<typeof buildTestApp>>;
/** Every response body seen, to prove no secret ever leaves the server. */
const bodies: string[] = [];

beforeAll(async () => {
  t = await buildTestApp({ app: { secretKey: KEY } });
});
afterAll(async () => {
  await t.close();
});

const base = (env: string) => `/api/v1/apps/qubot-one/environments/${env}`;
async function call(
  role: RoleName,
  method: 'GET' | 'PUT',
  url: string,
  payload?: object,
): Promise<LightMyRequestResponse> {
  const res = await t.app.inject({ method, url, headers: await t.as(role), ...(payload ? { payload } : {}) });
  bodies.push(res.body);
  return res;
}
const put = (role: RoleName, env: string, payload: object) =>
  call(role, 'PUT', `${base(env)}/config`, payload);

describe('[config] versioned configuration', () => {
  it('starts empty at version 0', async () => {
    const res = await call('viewer', 'GET', `${base('development')}/config`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: 0, entries: [], createdBy: null, createdAt: null, comment: null });
  });

  it('writes version 1 with secrets masked on output and encrypted at rest', async () => {
    const res = await put('deployer', 'development', {
      entries: [
        { key: 'LOG_LEVEL', value: 'debug' },
        { key: 'DATABASE_PASSWORD', value: SECRET_1, secret: true },
      ],
      comment: 'first config',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      version: 1,
      createdBy: 'deployer',
      comment: 'first config',
      entries: [
        { key: 'DATABASE_PASSWORD', value: MASK, secret: true },
        { key: 'LOG_LEVEL', value: 'debug', secret: false },
      ],
    });

    const rows = await t.db.prisma.$queryRaw<{ entries: string }[]>`
      SELECT entries::text AS entries FROM config_versions WHERE version = 1`;
    expect(rows).toHaveLength(1);
    const raw = rows[0]!.entries;
    expect(raw).not.toContain(SECRET_1);
    expect(raw).toContain('debug');
    const stored = JSON.parse(raw) as Record<string, { value: string; secret: boolean }>;
    expect(stored.DATABASE_PASSWORD?.value).toMatch(/^enc:v1:/);
    // Really AES-GCM under this key, bound to its environment and key name.
    const env = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    const box = createSecretBox(KEY);
    expect(box.decrypt(stored.DATABASE_PASSWORD!.value, `${env.id}/DATABASE_PASSWORD`)).toBe(SECRET_1);
    expect(() => box.decrypt(stored.DATABASE_PASSWORD!.value, `${env.id}/OTHER`)).toThrow();
  });

  it('keeps a secret sent masked or without a value, and returns 200 without a new version when nothing changed', async () => {
    const current = (await call('viewer', 'GET', `${base('development')}/config`)).json();
    const again = await put('deployer', 'development', { entries: current.entries, baseVersion: 1 });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().version).toBe(1);

    const res = await put('deployer', 'development', {
      entries: [
        { key: 'LOG_LEVEL', value: 'info' },
        { key: 'DATABASE_PASSWORD', secret: true },
        { key: 'FEATURE_X', value: 'on' },
      ],
      comment: 'quieter logs',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().version).toBe(2);
    const diff = await call('viewer', 'GET', `${base('development')}/config/diff?from=1&to=2`);
    expect(diff.statusCode, diff.body).toBe(200);
    expect(diff.json()).toEqual({
      from: { environment: 'development', version: 1 },
      to: { environment: 'development', version: 2 },
      added: [{ key: 'FEATURE_X', from: null, to: 'on', secret: false, changed: true }],
      removed: [],
      changed: [{ key: 'LOG_LEVEL', from: 'debug', to: 'info', secret: false, changed: true }],
      // The kept secret is the same stored secret: unchanged without comparing any value.
      notCompared: [],
      unchanged: 1,
    });
  });

  it('shows a rotated secret as changed to an admin, and as not compared to anyone else', async () => {
    const res = await put('deployer', 'development', {
      entries: [
        { key: 'LOG_LEVEL', value: 'info' },
        { key: 'DATABASE_PASSWORD', value: SECRET_2 },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().version).toBe(3);
    // `secret` omitted: the key stays secret.
    expect(res.json().entries).toContainEqual({ key: 'DATABASE_PASSWORD', value: MASK, secret: true });
    const diff = (await call('admin', 'GET', `${base('development')}/config/diff?from=2&to=3`)).json();
    expect(diff.changed).toEqual([
      { key: 'DATABASE_PASSWORD', from: MASK, to: MASK, secret: true, changed: true },
    ]);
    expect(diff.removed.map((e: { key: string }) => e.key)).toEqual(['FEATURE_X']);
    // Versions 1 and 3 hold different secrets even though both print the mask.
    const d13 = (await call('admin', 'GET', `${base('development')}/config/diff?from=1&to=3`)).json();
    expect(d13.changed.map((e: { key: string }) => e.key)).toEqual(['DATABASE_PASSWORD', 'LOG_LEVEL']);
    const viewer = (await call('viewer', 'GET', `${base('development')}/config/diff?from=2&to=3`)).json();
    expect(viewer.changed).toEqual([]);
    expect(viewer.notCompared).toEqual([
      { key: 'DATABASE_PASSWORD', from: MASK, to: MASK, secret: true, changed: false },
    ]);
  });

  it('lists versions newest first with a cursor, and reads one version', async () => {
    const first = await call('viewer', 'GET', `${base('development')}/config/versions?limit=2`);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    const cursor = first.json().nextCursor as string;
    expect(cursor).toBeTruthy();
    const next = await call(
      'viewer',
      'GET',
      `${base('development')}/config/versions?limit=2&cursor=${encodeURIComponent(cursor)}`,
    );
    expect(next.json()).toMatchObject({ items: [{ version: 1 }], nextCursor: null });

    const one = await call('viewer', 'GET', `${base('development')}/config/versions/1`);
    expect(one.json()).toMatchObject({ version: 1, comment: 'first config' });
    expect(one.json().entries).toContainEqual({ key: 'LOG_LEVEL', value: 'debug', secret: false });
    const missing = await call('viewer', 'GET', `${base('development')}/config/versions/99`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.details.field).toBe('params.version');
    const badCursor = await call('viewer', 'GET', `${base('development')}/config/versions?cursor=zzz`);
    expect(badCursor.statusCode).toBe(400);
  });

  it('refuses an edit that started from an older version', async () => {
    const res = await put('deployer', 'development', {
      entries: [{ key: 'LOG_LEVEL', value: 'warn' }],
      baseVersion: 1,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.details).toMatchObject({ field: 'body.baseVersion', current: 3 });
  });
});

describe('[config] validation names the field at fault', () => {
  const cases: Array<[string, object, string]> = [
    [
      'lower-case key',
      {
        entries: [
          { key: 'OK', value: '1' },
          { key: 'OK_2', value: '1' },
          { key: 'A', value: '' },
          { key: 'bad-key', value: 'x' },
        ],
      },
      'body.entries[3].key',
    ],
    ['key starting with a digit', { entries: [{ key: '1ABC', value: 'x' }] }, 'body.entries[0].key'],
    ['key too long', { entries: [{ key: `K${'X'.repeat(64)}`, value: 'x' }] }, 'body.entries[0].key'],
    [
      'duplicate key',
      {
        entries: [
          { key: 'A', value: '1' },
          { key: 'B', value: '2' },
          { key: 'A', value: '3' },
        ],
      },
      'body.entries[2].key',
    ],
    ['missing value', { entries: [{ key: 'PLAIN' }] }, 'body.entries[0].value'],
    [
      'new secret without a value',
      { entries: [{ key: 'NEW_SECRET', secret: true }] },
      'body.entries[0].value',
    ],
    ['mask as a plain value', { entries: [{ key: 'PLAIN', value: MASK }] }, 'body.entries[0].value'],
    ['unknown field', { entries: [{ key: 'A', value: '1', colour: 'red' }] }, 'body.entries[0].colour'],
    ['no entries', { comment: 'x' }, 'body.entries'],
  ];
  for (const [what, payload, field] of cases) {
    it(`${what} → 400 ${field}`, async () => {
      const res = await put('admin', 'staging', payload);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('validation_failed');
      expect(res.json().error.details.field).toBe(field);
      expect(res.json().error.message).toContain(field);
    });
  }
  it('wrote nothing', async () => {
    expect((await call('viewer', 'GET', `${base('staging')}/config`)).json().version).toBe(0);
  });
});

describe('[config] permissions', () => {
  it('a viewer cannot write', async () => {
    const res = await put('viewer', 'development', { entries: [] });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/^forbidden: needs deployer/);
  });
  it('a deployer cannot write a protected environment; a release-manager can', async () => {
    const entries = [
      { key: 'LOG_LEVEL', value: 'warn' },
      { key: 'DATABASE_PASSWORD', value: SECRET_1, secret: true },
      { key: 'PAYMENT_API_KEY', value: API_KEY, secret: true },
    ];
    const denied = await put('deployer', 'production', { entries });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.message).toBe(
      'forbidden: needs release-manager to change the configuration in protected environment production',
    );
    const ok = await put('release-manager', 'production', { entries, comment: 'prod config' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().version).toBe(1);
  });
});

describe('[config] cross-environment diff', () => {
  it('compares the current configuration of two environments', async () => {
    await put('deployer', 'staging', {
      entries: [
        { key: 'LOG_LEVEL', value: 'info' },
        { key: 'DATABASE_PASSWORD', value: SECRET_1, secret: true },
        { key: 'STAGING_ONLY', value: 'yes' },
      ],
    });
    const res = await call('viewer', 'GET', '/api/v1/apps/qubot-one/config/diff?from=staging&to=production');
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d.from).toEqual({ environment: 'staging', version: 1 });
    expect(d.to).toEqual({ environment: 'production', version: 1 });
    expect(d.added).toEqual([{ key: 'PAYMENT_API_KEY', from: null, to: MASK, secret: true, changed: true }]);
    expect(d.removed).toEqual([{ key: 'STAGING_ONLY', from: 'yes', to: null, secret: false, changed: true }]);
    expect(d.changed).toEqual([{ key: 'LOG_LEVEL', from: 'info', to: 'warn', secret: false, changed: true }]);
    // Same secret value in both, but a viewer may not learn that: not compared.
    expect(d.notCompared).toEqual([
      { key: 'DATABASE_PASSWORD', from: MASK, to: MASK, secret: true, changed: false },
    ]);
    expect(d.unchanged).toBe(0);
    // An admin (who can read every secret anyway, through the launchers) is told they are equal.
    const admin = (
      await call('admin', 'GET', '/api/v1/apps/qubot-one/config/diff?from=staging&to=production')
    ).json();
    expect(admin.notCompared).toEqual([]);
    expect(admin.unchanged).toBe(1);

    const unknown = await call('viewer', 'GET', '/api/v1/apps/qubot-one/config/diff?from=staging&to=nowhere');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.details.field).toBe('querystring.to');
  });
});

describe('[config] audit and events', () => {
  it('records config.update with key names only and emits config.updated', async () => {
    const audit = await t.db.prisma.auditEntry.findMany({
      where: { action: 'config.update' },
      orderBy: { at: 'asc' },
    });
    expect(audit.length).toBeGreaterThanOrEqual(5);
    const prodEntry = audit.find((a) => a.target === 'qubot-one/production');
    expect(prodEntry).toMatchObject({ actor: 'release-manager', reason: 'prod config' });
    expect(prodEntry?.after).toMatchObject({
      version: 1,
      keys: ['DATABASE_PASSWORD', 'LOG_LEVEL', 'PAYMENT_API_KEY'],
    });
    const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
    const auditJson = json(audit);
    for (const s of [SECRET_1, SECRET_2, API_KEY]) expect(auditJson).not.toContain(s);

    const env = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'production' } });
    const events = await t.db.prisma.event.findMany({
      where: { type: 'config.updated', environmentId: env.id },
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ applicationId: env.applicationId, payload: { version: 1 } });
    expect(json(events)).not.toContain(SECRET_1);
    // And through the API: the audit trail as a release-manager sees it.
    const viaApi = await call('release-manager', 'GET', '/api/v1/audit?action=config.update');
    expect(viaApi.statusCode).toBe(200);
    expect(viaApi.body).toContain('config.update');
  });
});

describe('[config] promotion preview', () => {
  async function setLive(env: string, version: string | null) {
    const app = await t.db.prisma.application.findUniqueOrThrow({ where: { name: 'qubot-one' } });
    const release = version
      ? await t.db.prisma.release.findUniqueOrThrow({
          where: { applicationId_version: { applicationId: app.id, version } },
        })
      : null;
    await t.db.prisma.environment.update({
      where: { applicationId_name: { applicationId: app.id, name: env } },
      data: { liveReleaseId: release?.id ?? null },
    });
    return { app, release };
  }

  it('has nothing to promote from the first environment', async () => {
    const res = await call('viewer', 'GET', `${base('development')}/promotion-preview`);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.details.reason).toBe('first_environment');
  });

  it('says why not when nothing is live upstream', async () => {
    const res = await call('release-manager', 'GET', `${base('staging')}/promotion-preview`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      from: { environment: 'development', version: null },
      to: { environment: 'staging', version: null },
      releases: [],
      allowed: false,
      reason: 'nothing is live in development to promote',
    });
  });

  it('lists versions, changelogs in between and config changes; allowed once it succeeded upstream', async () => {
    await setLive('production', '1.0.0');
    const { app, release } = await setLive('staging', '1.2.0');
    const notYet = (await call('release-manager', 'GET', `${base('production')}/promotion-preview`)).json();
    expect(notYet.allowed).toBe(false);
    expect(notYet.reason).toMatch(/1\.2\.0 has not succeeded in staging/);

    const staging = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'staging' } });
    await t.db.prisma.deployment.create({
      data: {
        applicationId: app.id,
        environmentId: staging.id,
        releaseId: release!.id,
        strategy: 'blue_green',
        status: 'succeeded',
        actor: 'deployer',
      },
    });
    const res = await call('release-manager', 'GET', `${base('production')}/promotion-preview`);
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json();
    expect(p).toMatchObject({
      from: { environment: 'staging', version: '1.2.0' },
      to: { environment: 'production', version: '1.0.0' },
      allowed: true,
      reason: null,
    });
    expect(p.releases.map((r: { version: string }) => r.version)).toEqual(['1.2.0', '1.1.0']);
    expect(p.releases[0].changelog).toContain('Prometheus metrics');
    expect(p.config.added.map((e: { key: string }) => e.key)).toEqual(['PAYMENT_API_KEY']);
    expect(p.config.changed.map((e: { key: string }) => e.key)).toEqual(['LOG_LEVEL']);

    // A viewer sees the same preview, but is told they may not promote.
    const viewer = (await call('viewer', 'GET', `${base('production')}/promotion-preview`)).json();
    expect(viewer.allowed).toBe(false);
    expect(viewer.reason).toMatch(/needs release-manager/);

    await setLive('production', '1.2.0');
    const same = (await call('release-manager', 'GET', `${base('production')}/promotion-preview`)).json();
    expect(same).toMatchObject({
      allowed: false,
      reason: '1.2.0 is already live in production',
      releases: [],
    });
  });
});

describe('[config] the wrong key', () => {
  it('still lists (masked) but refuses to compare secrets, naming the key to check', async () => {
    const other = await buildApp({ db: t.db, secretKey: randomBytes(32) });
    try {
      const headers = await t.as('viewer');
      const current = await other.inject({ url: `${base('development')}/config`, headers });
      expect(current.statusCode).toBe(200);
      const diff = await other.inject({ url: `${base('development')}/config/diff?from=1&to=3`, headers });
      bodies.push(current.body, diff.body);
      expect(diff.statusCode).toBe(500);
      expect(diff.json().error.message).toMatch(/DATABASE_PASSWORD cannot be decrypted .*QUBOT_SECRET_KEY/);
    } finally {
      await other.close();
    }
  });
});

describe('[security] the configuration diff is no oracle for secrets', () => {
  // A deployer writes guesses into development (theirs to write) and diffs against production,
  // whose secret they may not read: every answer must be the same whether the guess is right.
  it('answers a right guess and a wrong guess identically, in the diff and in the write', async () => {
    const prod = await put('release-manager', 'production', {
      entries: [{ key: 'ORACLE_DB_PASSWORD', value: PROD_SECRET, secret: true }],
    });
    expect(prod.statusCode, prod.body).toBe(201);
    const seen: unknown[] = [];
    for (const guess of ['wrong-guess-0001', PROD_SECRET]) {
      const wrote = await put('deployer', 'development', {
        entries: [{ key: 'ORACLE_DB_PASSWORD', value: guess, secret: true }],
      });
      expect(wrote.statusCode, wrote.body).toBe(201);
      const res = await call(
        'deployer',
        'GET',
        '/api/v1/apps/qubot-one/config/diff?from=development&to=production',
      );
      expect(res.statusCode, res.body).toBe(200);
      const { from: _f, ...d } = res.json();
      expect(d.notCompared.map((e: { key: string }) => e.key)).toContain('ORACLE_DB_PASSWORD');
      expect(d.changed.map((e: { key: string }) => e.key)).not.toContain('ORACLE_DB_PASSWORD');
      seen.push(d);
    }
    expect(seen[1]).toEqual(seen[0]);

    // Writing the same secret value again is a new version (no "nothing changed" confirmation).
    const again = await put('deployer', 'development', {
      entries: [{ key: 'ORACLE_DB_PASSWORD', value: PROD_SECRET, secret: true }],
    });
    expect(again.statusCode, again.body).toBe(201);
    // Keeping the stored secret (mask) is still "nothing changed".
    const kept = await put('deployer', 'development', {
      entries: [{ key: 'ORACLE_DB_PASSWORD', secret: true }],
    });
    expect(kept.statusCode, kept.body).toBe(200);
    // And the config.updated event (viewers read it) says "changed" for the rewrite whatever the value.
    const dev = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    const last = await t.db.prisma.event.findFirstOrThrow({
      where: { type: 'config.updated', environmentId: dev.id },
      orderBy: { seq: 'desc' },
    });
    expect((last.payload as { changed: string[] }).changed).toEqual(['ORACLE_DB_PASSWORD']);
  });
});

describe('[config] secrets never leave the server', () => {
  it('no response body contained a secret value', () => {
    expect(bodies.length).toBeGreaterThan(20);
    const all = bodies.join('\n');
    for (const s of [SECRET_1, SECRET_2, API_KEY, PROD_SECRET]) expect(all).not.toContain(s);
    expect(all).toContain(MASK);
  });
});
