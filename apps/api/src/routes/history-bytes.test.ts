// The history, audit and release pages byte for byte: the bodies were recorded (the snapshot file
// beside this test) before the list path's per-row work was cut (bench/README.md "History at
// scale"), and every later change to how a page is read, mapped or serialised must answer the
// same bytes. Deployments are rows the engine would store for real packages/core state machines
// (view-fixtures `simulate`); audit entries come from real API actions. Random ids and clock
// times are replaced by tokens in order of appearance, so equal values stay equal.
import type { DeploymentState } from '@qubot/core';
import { appendAudit } from '@qubot/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';
import { type Sim, settleFirstAnalysis, simulate, stepRows } from '../views/view-fixtures.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t.close();
});

// A protected environment that requires approval.
const GUARDED = { protected: true, requiresApproval: true };

// What each deployment is: every status the history shows, actions or none, analysis, errors.
const MACHINES: { drive?: (sim: Sim) => void; input: Parameters<typeof simulate>[0]['input'] }[] = [
  { input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0' }, drive: settleFirstAnalysis },
  { input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0' }, drive: (s) => s.start().run() },
  {
    input: { strategy: 'blue-green', version: '1.1.0', fromVersion: '1.0.0', ...GUARDED },
    drive: (s) => s.start().run({ timers: false }),
  },
  {
    input: { strategy: 'blue-green', version: '1.0.0', fromVersion: null, activeColor: null },
    drive: (s) => s.start().run(),
  },
  {
    input: { strategy: 'rolling', version: '1.1.0', fromVersion: '1.0.0' },
    drive: (s) => s.start().run({ timers: false }),
  },
  {
    input: { strategy: 'rolling', version: '1.1.0', fromVersion: '1.0.0' },
    drive: (s) => {
      s.start().run({ timers: false });
      s.send({ type: 'abort', actor: 'bob' });
      s.run();
    },
  },
  { input: { strategy: 'rolling', version: '1.0.0', fromVersion: '1.1.0' } },
];

async function seedHistory() {
  const app = await t.db.prisma.application.findUniqueOrThrow({
    where: { name: 'qubot-one' },
    include: { environments: true, releases: true },
  });
  const release = (v: string) => app.releases.find((r) => r.version === v)?.id as string;
  // One environment more: at most one deployment per environment is active (4 machines are).
  const qa = await t.db.prisma.environment.create({
    data: { applicationId: app.id, name: 'qa', position: app.environments.length },
  });
  const envs = [...app.environments, qa].sort((a, b) => a.position - b.position);
  let n = 0;
  let active = 0;
  // 3 rounds × 7 machines × the environments: several pages, every filter non-empty; each
  // active machine once, on an environment of its own.
  for (let round = 0; round < 3; round++) {
    for (const [i, m] of MACHINES.entries()) {
      const probe = simulate(m);
      const isActive = ['pending', 'running', 'paused'].includes(probe.status);
      if (isActive && round > 0) continue;
      const targets = isActive ? [envs[active++ % envs.length]] : envs;
      for (const env of targets) {
        if (!env) continue;
        n++;
        const s: DeploymentState = simulate(m);
        const created = new Date(Date.UTC(2026, 10, 1) + n * 61_237);
        const id = `d0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
        const date = (iso: string | null) => (iso === null ? null : new Date(iso));
        await t.db.prisma.deployment.create({
          data: {
            id,
            applicationId: app.id,
            environmentId: env.id,
            releaseId: release(s.input.version),
            fromReleaseId: s.input.fromVersion ? release(s.input.fromVersion) : null,
            kind: (['deploy', 'promote', 'rollback', 'scale'] as const)[n % 4],
            strategy: s.strategy === 'blue-green' ? 'blue_green' : s.strategy,
            status: s.status,
            waitingFor: s.waitingFor,
            options: s.options as object,
            state: s as unknown as object,
            progress: s.progress as unknown as object,
            analysis: s.analysis as unknown as object,
            reason: n % 3 === 0 ? null : `weekly "release" ${n}\n— ünïcode \\ ok`,
            actor: ['alice', 'ci', 'token:deploy'][n % 3] as string,
            requestsServed: BigInt(n * 9_007_199_254),
            requestsFailed: BigInt(n % 5),
            error: s.outcome && s.outcome.status !== 'succeeded' ? s.outcome.reason : null,
            createdAt: created,
            // Milliseconds that differ from machine to machine: every digit is written out.
            startedAt: s.startedAt ? new Date(Date.parse(s.startedAt) + i) : null,
            finishedAt: date(s.finishedAt),
            steps: { create: stepRows(s) },
          },
        });
      }
    }
  }
  // A timestamp with microseconds, as PostgreSQL's now() writes them.
  await t.db.pool.query(
    `UPDATE deployments SET finished_at = finished_at + interval '123 microseconds' WHERE finished_at IS NOT NULL`,
  );
}

/** The body with random ids, clock times and cursors replaced by tokens in order of appearance. */
function normalise(body: string): string {
  const tokens = new Map<string, string>();
  const token = (kind: string, v: string) => {
    let tok = tokens.get(v);
    if (tok === undefined) {
      tok = `<${kind}${tokens.size}>`;
      tokens.set(v, tok);
    }
    return tok;
  };
  const plain = (s: string) =>
    s
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (v) =>
        v.startsWith('d0000000-') ? v : token('id', v),
      )
      .replace(/20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/g, (v) =>
        /^(2025-|2026-11-)/.test(v) ? v : token('t', v),
      );
  return plain(
    body.replace(
      /"nextCursor":"([A-Za-z0-9_-]+)"/g,
      (_, c: string) =>
        `"nextCursor":${JSON.stringify(`cursor:${plain(Buffer.from(c, 'base64url').toString('utf8'))}`)}`,
    ),
  );
}

it('[API] history, audit and release pages answer the same bytes as recorded', {
  timeout: 60_000,
}, async () => {
  await seedHistory();
  const admin = await t.as('admin');
  // Audit entries from real actions: sign-ins and release registrations.
  for (let i = 0; i < 3; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers: admin,
      payload: {
        version: `3.${i}.0`,
        artifact: `builds/3.${i}.0`,
        commit: `c0ffee${i}`,
        changelog: 'fix "quotes"\nand ünïcode',
      },
    });
    expect(res.statusCode).toBe(201);
  }
  // Entries about deployments, as the deployment actions append them: the page shows the version
  // of the deployment's release when the target is one (exactly its id), null otherwise.
  const known = 'd0000000-0000-4000-8000-000000000001';
  for (const [i, targetId] of [
    known,
    known.toUpperCase(),
    'd0000000-0000-4000-8000-999999999999',
    'not-a-uuid',
    null,
  ].entries())
    await appendAudit(t.db.prisma, {
      actor: 'alice',
      role: 'deployer',
      action: i % 2 ? 'deployment.abort' : 'deployment.create',
      targetType: 'deployment',
      targetId,
      target: `qubot-one/staging/${targetId}`,
      reason: i ? null : 'why "not"',
      before: i ? { status: 'running', n: i } : null,
      after: { status: 'aborted', list: [1, 'two', null] },
    });
  const get = async (url: string) => {
    const res = await t.app.inject({ method: 'GET', url, headers: admin });
    expect(res.statusCode, url).toBe(200);
    return res.body;
  };
  const pages: Record<string, string> = {};
  const first = await get('/api/v1/deployments?limit=50');
  pages['deployments page 1'] = first;
  const cursor = JSON.parse(first).nextCursor as string;
  pages['deployments page 2 (cursor)'] = await get(`/api/v1/deployments?limit=50&cursor=${cursor}`);
  for (const q of [
    'app=qubot-one&limit=7',
    'app=qubot-one&env=staging&limit=10',
    'status=paused&limit=5',
    'status=aborted',
    'status=succeeded&limit=3',
    'app=qubot-one&env=production&status=running',
  ])
    pages[`deployments ?${q}`] = await get(`/api/v1/deployments?${q}`);
  const one = JSON.parse(first).items[0].id as string;
  pages['one deployment'] = await get(`/api/v1/deployments/${one}`);
  pages['audit page 1'] = await get('/api/v1/audit?limit=50');
  pages['audit ?action=release.create'] = await get('/api/v1/audit?action=release.create');
  pages['audit ?actor=admin&limit=2'] = await get('/api/v1/audit?actor=admin&limit=2');
  pages['audit ?action=deployment.'] = await get('/api/v1/audit?action=deployment.');
  pages['audit CSV'] = await get('/api/v1/audit.csv');
  pages['releases page 1'] = await get('/api/v1/apps/qubot-one/releases?limit=50');
  pages['releases ?limit=2'] = await get('/api/v1/apps/qubot-one/releases?limit=2');
  const text = Object.entries(pages)
    .map(([name, body]) => `## ${name}\n${normalise(body)}\n`)
    .join('\n');
  await expect(text).toMatchFileSnapshot('./__snapshots__/history-bytes.txt');
});
