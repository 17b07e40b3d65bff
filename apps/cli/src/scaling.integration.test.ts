// `qubot scale` and `qubot resources` as a real CLI process against the real server and worker
// (real instances behind the environment's router): exit codes, --wait following the deployment
// to its end, what the server stores, and two CLIs racing for one environment.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP,
  createToken,
  FAST,
  type Harness,
  liveWithOneReplica,
  settled,
  startHarness,
} from '../../api/src/orchestrator/test-helpers.ts';
import { createCliRunner } from './cli-process.ts';
import { ExitCode } from './exit-utils.ts';

const ENV = 'development';
const FINAL = ['succeeded', 'failed', 'rolled_back', 'aborted'];

let h: Harness;
let server: string;
let token: string;
let viewerToken: string;
let home: string;

beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  token = await createToken(h, 'release-manager');
  viewerToken = await createToken(h, 'viewer');
  home = await mkdtemp(join(tmpdir(), 'qubot-cli-scale-'));
  await liveWithOneReplica(h, ENV);
}, 90_000);

afterAll(async () => {
  cli.killAll();
  await h?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const cli = createCliRunner(() => ({ HOME: home, QUBOT_SERVER: server, QUBOT_TOKEN: token }));
const qubot = (args: string[], env: Record<string, string> = {}) => cli.run(args, { env });

const healthyServing = async () => {
  const e = await h.environment(ENV);
  return e.instances.filter(
    (i: { pool: string; healthy: boolean; status: string }) =>
      i.pool === e.activeColor && i.healthy && i.status === 'running',
  );
};

describe('[CLI] qubot scale / qubot resources against the real server', () => {
  it('scale <app> <env> --replicas 2 --wait follows the scale deployment to its end (0); audited', async () => {
    const r = await qubot(['scale', APP, ENV, '--replicas', '2', '--reason', 'cli scale', '--wait']);
    expect(r.code, r.stderr + r.stdout).toBe(ExitCode.Ok);
    expect(r.stdout).toContain('scaling to 2: deployment');
    expect(r.stdout).toMatch(/deployment [0-9a-f-]{36} succeeded/);
    const env = await h.environment(ENV);
    expect(env.replicas).toBe(2);
    expect(await healthyServing()).toHaveLength(2);
    const scales = await h.db.prisma.deployment.findMany({ where: { kind: 'scale', reason: 'cli scale' } });
    expect(scales).toHaveLength(1);
    expect(scales[0]?.status).toBe('succeeded');
    const audit = await h.db.prisma.auditEntry.findMany({
      where: { action: 'environment.scale', reason: 'cli scale' },
    });
    expect(audit).toHaveLength(1);
  }, 120_000);

  it('resources <env> --cpu --memory --wait --json rolls every instance under the new limits (0)', async () => {
    const r = await qubot([
      'resources',
      ENV,
      '--cpu',
      '0.5',
      '--memory',
      '192Mi',
      '--reason',
      'cli limits',
      '--wait',
      '--json',
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(ExitCode.Ok);
    const final = JSON.parse(r.stdout);
    expect(final).toMatchObject({ status: 'succeeded', strategy: 'rolling', reason: 'cli limits' });
    // Progress went to stderr, the one JSON document to stdout.
    expect(r.stderr).toContain('rolling the instances to the new limits');
    const env = await h.environment(ENV);
    expect(env.resources).toEqual({ memoryMb: 192, cpus: 0.5 });
    const serving = await healthyServing();
    expect(serving).toHaveLength(2);
    for (const i of serving) expect(i.limits).toEqual({ memoryMb: 192, cpus: 0.5 });

    // The same limits again change and roll nothing.
    const again = await qubot(['resources', ENV, '--cpu', '0.5', '--memory', '192']);
    expect(again.code, again.stderr).toBe(ExitCode.Ok);
    expect(again.stdout).toContain(`limits of ${APP}/${ENV} unchanged (nothing to roll)`);
    expect(await h.db.prisma.deployment.count({ where: { reason: 'cli limits' } })).toBe(1);
  }, 150_000);

  it('bad input exits 2 naming the field (server or flag); unknown environment 4; a viewer 3', async () => {
    const tooMany = await qubot(['scale', ENV, '--replicas', '50']);
    expect(tooMany.code).toBe(ExitCode.Usage);
    expect(tooMany.stderr).toContain('body.replicas');
    const tooSmall = await qubot(['resources', ENV, '--memory', '8']);
    expect(tooSmall.code).toBe(ExitCode.Usage);
    expect(tooSmall.stderr).toContain('body.memoryMb');
    const notCpu = await qubot(['resources', ENV, '--cpu', 'lots']);
    expect(notCpu.code).toBe(ExitCode.Usage);
    expect(notCpu.stderr).toContain('--cpu must be a number of CPUs');
    const nothing = await qubot(['resources', ENV]);
    expect(nothing.code).toBe(ExitCode.Usage);
    const noReplicas = await qubot(['scale', ENV]);
    expect(noReplicas.code).toBe(ExitCode.Usage);
    expect(noReplicas.stderr).toContain('--replicas');
    const disagree = await qubot(['scale', 'other-app', ENV, '--replicas', '2', '--app', APP]);
    expect(disagree.code).toBe(ExitCode.Usage);
    const unknown = await qubot(['scale', 'nowhere', '--replicas', '2']);
    expect(unknown.code).toBe(ExitCode.NotFound);
    const viewer = await qubot(['scale', ENV, '--replicas', '3'], { QUBOT_TOKEN: viewerToken });
    expect(viewer.code).toBe(ExitCode.Auth);
    const viewerLimits = await qubot(['resources', ENV, '--cpu', '1'], { QUBOT_TOKEN: viewerToken });
    expect(viewerLimits.code).toBe(ExitCode.Auth);
    // Nothing changed.
    const env = await h.environment(ENV);
    expect(env.replicas).toBe(2);
    expect(env.resources).toEqual({ memoryMb: 192, cpus: 0.5 });
  }, 60_000);

  it('race: two CLIs scale the same environment at once — exactly one wins (0), the other exits 5', async () => {
    await settled(h, ENV);
    // Two CLI processes start hundreds of milliseconds apart on a loaded machine, enough for the
    // first scale to finish before the second arrives. The environment's row lock (which every
    // scale takes) is held here until both requests wait on it, then both go at once.
    const row = await h.db.prisma.environment.findFirstOrThrow({
      where: { name: ENV, application: { name: APP } },
    });
    const holder = await h.db.pool.connect();
    type Run = Awaited<ReturnType<typeof qubot>>;
    let racing: Promise<[Run, Run]>;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM environments WHERE id = $1 FOR UPDATE', [row.id]);
      racing = Promise.all([
        qubot(['scale', ENV, '--replicas', '3', '--reason', 'race a', '--json']),
        qubot(['scale', ENV, '--replicas', '1', '--reason', 'race b', '--json']),
      ]);
      await expect
        .poll(
          async () =>
            (
              await h.db.pool.query(
                `SELECT count(*)::int AS n FROM pg_stat_activity
                  WHERE wait_event_type = 'Lock' AND query ILIKE '%from environments%for update%'
                    AND query NOT ILIKE '%skip locked%'`,
              )
            ).rows[0]?.n,
          { timeout: 60_000, interval: 50 },
        )
        .toBe(2);
    } finally {
      await holder.query('COMMIT').catch(() => {});
      holder.release();
    }
    const [a, b] = await racing;
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([ExitCode.Ok, ExitCode.Conflict]);
    const winner = a.code === ExitCode.Ok ? { r: a, replicas: 3 } : { r: b, replicas: 1 };
    const loser = a.code === ExitCode.Ok ? b : a;
    expect(loser.stderr).toMatch(/active|in progress/i);
    const started = JSON.parse(winner.r.stdout);
    expect(started).toMatchObject({ kind: 'scale' });
    // Reported == served: the winner's count is stored, and the scale it started reaches it.
    expect((await h.environment(ENV)).replicas).toBe(winner.replicas);
    expect((await h.until(started.id, FINAL, 90_000)).status).toBe('succeeded');
    expect(await healthyServing()).toHaveLength(winner.replicas);
    expect(
      await h.db.prisma.deployment.count({ where: { kind: 'scale', reason: { in: ['race a', 'race b'] } } }),
    ).toBe(1);
  }, 150_000);

  it('resources while a deployment is active exits 5 and changes nothing', async () => {
    await settled(h, ENV);
    // A canary held by hand keeps the environment busy.
    const busy = await h.deploy(ENV, {
      version: '1.1.0',
      strategy: 'canary',
      options: { ...FAST, steps: [50], stepDurationSeconds: 'manual', analysis: { enabled: false } },
    });
    const refused = await qubot(['resources', ENV, '--cpu', '1']);
    expect(refused.code, refused.stderr).toBe(ExitCode.Conflict);
    expect((await h.environment(ENV)).resources).toEqual({ memoryMb: 192, cpus: 0.5 });
    const aborted = await h.post(`/deployments/${busy.id}/abort`, { reason: 'test' });
    expect([200, 202], aborted.body).toContain(aborted.statusCode);
    await h.until(busy.id, FINAL, 90_000);
  }, 150_000);
});
