// Hosts in the control plane (docs/hosts.md): one-time enrolment tokens, the agent's enrolment
// (its own credential, hashed), cordon/drain/revoke, the environment's placement setting. Real
// server and PostgreSQL; enrolments race through real HTTP.
import type { CreatedEnrolmentToken, Enrolled, EnrolmentToken, Host, List } from '@qubot/api-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { sha256 } from '../lib/password.ts';

type T = Awaited<ReturnType<typeof buildTestApp>>;
let t: T;
let base: string;

beforeAll(async () => {
  t = await buildTestApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

type Role = 'admin' | 'release-manager' | 'deployer' | 'viewer';
const inject = async (
  role: Role,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
) => t.app.inject({ method, url, headers: await t.as(role), ...(payload ? { payload } : {}) });

async function newToken(name = 'rack-1', expiresInMinutes?: number): Promise<CreatedEnrolmentToken> {
  const res = await inject('admin', 'POST', '/api/v1/hosts/enrolment-tokens', {
    name,
    ...(expiresInMinutes ? { expiresInMinutes } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

type ErrorBody = { error: { message: string; details: { field: string } } };
const errorOf = async (res: Response) => (await res.json()) as ErrorBody;

/** What `qubot agent --enrol` sends, over real HTTP (no session). */
const enrol = (token: string, name: string, extra: object = {}) =>
  fetch(`${base}/api/v1/agent/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, name, address: '10.77.0.2', agentVersion: '0.1.0', ...extra }),
  });

const auditOf = (targetId: string) =>
  t.db.prisma.auditEntry.findMany({ where: { targetId }, orderBy: { id: 'asc' } });

describe('[hosts] enrolment tokens', () => {
  it('shows the secret once, stores only its hash, and lists it as active', async () => {
    const { token, secret } = await newToken('rack-a', 30);
    expect(secret).toMatch(/^qhe_/);
    expect(token).toMatchObject({ name: 'rack-a', status: 'active', createdBy: 'admin', host: null });
    expect(new Date(token.expiresAt).getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const row = await t.db.prisma.enrolmentToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(row.tokenHash).toBe(sha256(secret));
    const list = await inject('admin', 'GET', '/api/v1/hosts/enrolment-tokens');
    expect(list.body).not.toContain(secret);
    expect((list.json() as List<EnrolmentToken>).items.map((i) => i.id)).toContain(token.id);
    expect((await auditOf(token.id)).map((a) => a.action)).toEqual(['host.enrolment_token.create']);
  });

  it('pages the token list newest first with a cursor', async () => {
    for (const n of ['page-1', 'page-2', 'page-3']) await newToken(n);
    const first = (await inject('admin', 'GET', '/api/v1/hosts/enrolment-tokens?limit=2')).json();
    expect(first.items.map((i: EnrolmentToken) => i.name)).toEqual(['page-3', 'page-2']);
    const second = (
      await inject('admin', 'GET', `/api/v1/hosts/enrolment-tokens?limit=2&cursor=${first.nextCursor}`)
    ).json();
    expect(second.items[0].name).toBe('page-1');
    const bad = await inject('admin', 'GET', '/api/v1/hosts/enrolment-tokens?cursor=nonsense');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('querystring.cursor');
  });

  it('refuses bad input naming the field, and anyone but an admin', async () => {
    const bad = await inject('admin', 'POST', '/api/v1/hosts/enrolment-tokens', {
      name: 'x',
      expiresInMinutes: 0,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('expiresInMinutes');
    for (const role of ['viewer', 'deployer', 'release-manager'] as const) {
      expect((await inject(role, 'POST', '/api/v1/hosts/enrolment-tokens', { name: 'x' })).statusCode).toBe(
        403,
      );
      expect((await inject(role, 'GET', '/api/v1/hosts')).statusCode).toBe(403);
    }
  });
});

describe('[hosts] enrolment', () => {
  it('spends the token once: the agent gets its own credential, stored hashed', async () => {
    const { token, secret } = await newToken('for-h1');
    const res = await enrol(secret, 'h1', { capacity: 3 });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Enrolled;
    expect(body.credential).toMatch(/^qha_/);
    const host = await t.db.prisma.host.findUniqueOrThrow({ where: { id: body.hostId } });
    expect(host).toMatchObject({ name: 'h1', address: '10.77.0.2', capacity: 3, agentVersion: '0.1.0' });
    expect(host.credentialHash).toBe(sha256(body.credential));
    const again = await enrol(secret, 'h1-again');
    expect(again.status).toBe(401);
    const err = await errorOf(again);
    expect(err.error.message).toContain('already used');
    expect(err.error.details.field).toBe('body.token');
    const listed = (
      await inject('admin', 'GET', '/api/v1/hosts/enrolment-tokens')
    ).json() as List<EnrolmentToken>;
    expect(listed.items.find((i) => i.id === token.id)).toMatchObject({ status: 'used', host: 'h1' });
    expect((await auditOf(body.hostId)).map((a) => [a.action, a.actor])).toEqual([['host.enrol', 'host:h1']]);
  });

  it('[race] concurrent enrolments with one token: exactly one wins', async () => {
    const { secret } = await newToken('raced');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => enrol(secret, `race-${i}`)));
    const codes = answers.map((a) => a.status).sort();
    expect(codes).toEqual([201, 401, 401, 401, 401, 401, 401, 401]);
    const winner = (await answers.find((a) => a.status === 201)?.json()) as Enrolled;
    const hosts = await t.db.prisma.host.findMany({ where: { name: { startsWith: 'race-' } } });
    expect(hosts.map((h) => h.id)).toEqual([winner.hostId]);
  });

  it('refuses an expired, a revoked or an unknown token; a taken name leaves the token unused', async () => {
    const expired = await newToken('old');
    await t.db.prisma.enrolmentToken.update({
      where: { id: expired.token.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect((await errorOf(await enrol(expired.secret, 'h-exp'))).error.message).toContain('expired');
    const revoked = await newToken('revoked');
    const del = await inject('admin', 'DELETE', `/api/v1/hosts/enrolment-tokens/${revoked.token.id}`);
    expect(del.json()).toMatchObject({ status: 'revoked' });
    expect((await enrol(revoked.secret, 'h-rev')).status).toBe(401);
    expect((await enrol('qhe_nope', 'h-none')).status).toBe(401);
    await enrol((await newToken('taken-1')).secret, 'taken');
    const second = await newToken('taken-2');
    const clash = await enrol(second.secret, 'taken');
    expect(clash.status).toBe(409);
    expect((await errorOf(clash)).error.details.field).toBe('body.name');
    const row = await t.db.prisma.enrolmentToken.findUniqueOrThrow({ where: { id: second.token.id } });
    expect(row.usedAt).toBeNull();
    const badName = await enrol(second.secret, 'Not A Name');
    expect(badName.status).toBe(400);
    expect((await errorOf(badName)).error.message).toContain('name');
  });
});

describe('[hosts] cordon, drain, revoke', () => {
  async function enrolled(name: string): Promise<string> {
    const res = await enrol((await newToken(`for-${name}`)).secret, name);
    return ((await res.json()) as Enrolled).hostId;
  }
  const act = async (id: string, action: string, reason?: string) =>
    inject('admin', 'POST', `/api/v1/hosts/${id}/${action}`, reason ? { reason } : {});

  it('moves a host through its states, audited once per change', async () => {
    const id = await enrolled('states');
    const view = async () => (await inject('admin', 'GET', `/api/v1/hosts/${id}`)).json() as Host;
    expect(await view()).toMatchObject({ state: 'disconnected', scheduling: 'schedulable', instances: 0 });
    expect((await act(id, 'cordon', 'kernel update')).json()).toMatchObject({ state: 'cordoned' });
    expect((await act(id, 'cordon')).json()).toMatchObject({ state: 'cordoned' });
    // Nothing runs there: drained at once (no drain deployment to wait for).
    expect((await act(id, 'drain')).json()).toMatchObject({ state: 'drained', scheduling: 'draining' });
    expect(await t.db.prisma.deployment.count({ where: { kind: 'drain' } })).toBe(0);
    expect((await act(id, 'uncordon')).json()).toMatchObject({
      state: 'disconnected',
      scheduling: 'schedulable',
    });
    expect((await act(id, 'revoke')).json()).toMatchObject({ state: 'revoked' });
    const after = await act(id, 'cordon');
    expect(after.statusCode).toBe(409);
    const audit = await auditOf(id);
    expect(audit.map((a) => a.action)).toEqual([
      'host.enrol',
      'host.cordon',
      'host.drain',
      'host.uncordon',
      'host.revoke',
    ]);
    expect(audit[1]?.reason).toBe('kernel update');
    const list = (await inject('admin', 'GET', '/api/v1/hosts')).json() as List<Host>;
    expect(list.items.find((h) => h.id === id)?.state).toBe('revoked');
    expect((await act(id, 'explode')).statusCode).toBe(400);
    expect((await inject('release-manager', 'POST', `/api/v1/hosts/${id}/cordon`, {})).statusCode).toBe(403);
  });

  it('[race] concurrent cordon and drain: one order wins, the answer of the last is what is served', async () => {
    const id = await enrolled('raced-actions');
    const answers = await Promise.all(['cordon', 'drain', 'cordon', 'drain'].map((a) => act(id, a)));
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    const served = (await inject('admin', 'GET', `/api/v1/hosts/${id}`)).json() as Host;
    const audit = (await auditOf(id)).filter((a) => a.action !== 'host.enrol');
    // Each recorded change is a real change (no two in a row the same), and the last one is the state served.
    for (let i = 1; i < audit.length; i++) expect(audit[i]?.action).not.toBe(audit[i - 1]?.action);
    expect(audit.at(-1)?.action).toBe(`host.${served.scheduling === 'draining' ? 'drain' : 'cordon'}`);
    const revokes = await Promise.all([1, 2, 3].map(() => act(id, 'revoke')));
    expect(revokes.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect((await auditOf(id)).filter((a) => a.action === 'host.revoke')).toHaveLength(1);
  });
});

describe('[hosts] placement setting', () => {
  it('an admin sends an environment to the hosts, audited; a release-manager may not', async () => {
    const url = '/api/v1/apps/qubot-one/environments/development/settings';
    expect((await inject('release-manager', 'PATCH', url, { placement: 'hosts' })).statusCode).toBe(403);
    const res = await inject('admin', 'PATCH', url, { placement: 'hosts' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().placement).toBe('hosts');
    const env = await t.db.prisma.environment.findFirstOrThrow({ where: { name: 'development' } });
    expect(env.placement).toBe('hosts');
    const audit = await t.db.prisma.auditEntry.findMany({ where: { action: 'environment.placement' } });
    expect(audit.map((a) => a.after)).toEqual([{ placement: 'hosts' }]);
    const bad = await inject('admin', 'PATCH', url, { placement: 'mars' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('placement');
  });
});
