import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LauncherError, parseLauncher, renderLauncher, splitCommandLine } from './launcher.ts';
import { LocalDriver } from './local-driver.ts';
import { isAlive, RUNTIME_SRC_DIR, tsxLoader } from './proc.ts';
import type { InstanceRecord, InstanceSpec } from './types.ts';

const WORKSPACE = resolve(RUNTIME_SRC_DIR, '../../..');
const QUBOT_ONE =
  'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port} --version {version} --pool {pool} --instance-id {instanceId}';

const dataDir = mkdtempSync(join(tmpdir(), 'qubot-runtime-'));
const driver = new LocalDriver({
  dataDir,
  workspaceDir: WORKSPACE,
  stopTimeoutMs: 3_000,
  backoff: { initialMs: 100, maxMs: 400 },
});
const started: InstanceRecord[] = [];

const spec = (over: Partial<InstanceSpec> & Pick<InstanceSpec, 'instanceId'>): InstanceSpec => ({
  environment: 'test/driver',
  version: '1.0.0',
  artifact: 'qubot-one/healthy',
  pool: 'blue',
  launcher: { command: QUBOT_ONE },
  ...over,
});

async function start(s: InstanceSpec) {
  const record = await driver.start(s);
  started.push(record);
  return record;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => driver.stop(r)));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('launcher templates', () => {
  it('splits words and quotes without a shell', () => {
    expect(splitCommandLine(`node  'a b' "c \\"d\\"" e\\ f --x={port}`)).toEqual([
      'node',
      'a b',
      'c "d"',
      'e f',
      '--x={port}',
    ]);
    expect(() => splitCommandLine(`node 'oops`)).toThrow(LauncherError);
    expect(() => parseLauncher('node main.ts {command}')).toThrow(/unknown placeholder/);
    expect(() => parseLauncher('{artifact} --port {port}')).toThrow(/program itself/);
    expect(() => parseLauncher('node a\nrm -rf /')).toThrow(/single line/);
  });

  it('keeps every substituted value inside its own argument', () => {
    const { command, args } = renderLauncher('run --artifact {artifact} --tag={version}', {
      artifact: 'x; touch /tmp/pwned $(id) `id` | cat',
      version: '1.0.0',
      port: '1',
      pool: 'blue',
      instanceId: 'i',
    });
    expect(command).toBe('run');
    expect(args).toEqual(['--artifact', 'x; touch /tmp/pwned $(id) `id` | cat', '--tag=1.0.0']);
  });
});

describe('LocalDriver', () => {
  it('cannot be made to run a command through the artifact reference', async () => {
    const marker = join(dataDir, `pwned-${process.pid}`);
    const artifacts = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a && touch ${marker} #`,
    ];
    const records = await Promise.all(
      artifacts.map((artifact, i) =>
        start(
          spec({
            instanceId: `inject-${i}`,
            artifact,
            launcher: {
              command: 'node packages/runtime/src/test-fixtures/argv-echo.mjs --artifact {artifact}',
            },
          }),
        ),
      ),
    );
    expect((await driver.waitHealthy(records, 10_000)).ok).toBe(true);
    for (const [i, r] of records.entries()) {
      const body = (await (await fetch(`${r.url}/healthz`)).json()) as {
        args: string[];
        env: Record<string, string>;
      };
      // The whole reference arrives as one argument, byte for byte, and as QUBOT_ARTIFACT.
      expect(body.args).toEqual(['--artifact', artifacts[i]]);
      expect(body.env.QUBOT_ARTIFACT).toBe(artifacts[i]);
    }
    expect(existsSync(marker)).toBe(false);

    for (const bad of ['--help', '-x', 'a\nb', 'a\u0000b', '']) {
      await expect(driver.start(spec({ instanceId: 'bad', artifact: bad }))).rejects.toThrow(LauncherError);
    }
    await expect(driver.start(spec({ instanceId: '../etc' }))).rejects.toThrow(/instance id/);
    await expect(driver.start(spec({ instanceId: 'v', version: '1.0 --inspect' }))).rejects.toThrow(
      /version/,
    );
  });

  it('starts Qubot-One, health-checks it, reports status and tails its log', async () => {
    const r = await start(spec({ instanceId: 'one-1', version: '1.2.0', pool: 'green' }));
    const health = await driver.waitHealthy([r], 15_000);
    expect(health.ok).toBe(true);
    const res = await fetch(`${r.url}/`);
    expect(res.headers.get('x-qubot-version')).toBe('1.2.0');
    expect(await res.json()).toMatchObject({ version: '1.2.0', pool: 'green', instanceId: 'one-1' });
    const st = await driver.status(r);
    expect(st).toMatchObject({ state: 'running', alive: true, restarts: 0, supervisorPid: r.supervisorPid });
    expect(st.pid).toBeGreaterThan(0);
    await expect.poll(async () => (await driver.logs(r, 50)).join('\n')).toContain('"msg":"listening"');
    expect(driver.list('test/driver').map((x) => x.id)).toContain('one-1');

    await driver.stop(r);
    expect(isAlive(st.pid)).toBe(false);
    expect(isAlive(r.supervisorPid)).toBe(false);
    expect((await driver.status(r)).state).toBe('stopped');
    expect((await driver.checkHealth(r, 500)).healthy).toBe(false);
  });

  it('keeps instance logs, spec and status owner-only on disk (0700 directory, 0600 files)', async () => {
    // A log left world-readable by an older version is tightened when the supervisor opens it.
    const dir = driver.instanceDir('private-1');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(join(dir, 'instance.log'), 'old line\n', { mode: 0o644 });
    const r = await start(spec({ instanceId: 'private-1', env: { SOME_SECRET: 's3cret' } }));
    expect((await driver.waitHealthy([r], 15_000)).ok).toBe(true);
    await expect.poll(async () => (await driver.logs(r, 50)).join('\n')).toContain('"msg":"listening"');
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dataDir, 'instances'))).toBe(0o700);
    expect(mode(r.logPath)).toBe(0o600);
    expect(mode(r.statusPath)).toBe(0o600);
    expect(mode(join(dir, 'spec.json'))).toBe(0o600);
    expect(mode(join(dir, 'record.json'))).toBe(0o600);
  });

  it('reports a never-healthy instance as not ready at the deadline, and honours abort', async () => {
    const r = await start(spec({ instanceId: 'sick-1', artifact: 'qubot-one/never-healthy' }));
    const result = await driver.waitHealthy([r], 2_500);
    expect(result.ok).toBe(false);
    expect(result.results[0]).toMatchObject({ id: 'sick-1', healthy: false });
    const ctrl = new AbortController();
    const waiting = driver.waitHealthy([r], 10_000, ctrl.signal);
    ctrl.abort();
    await expect(waiting).rejects.toThrow();
  });

  it('restarts a crashing instance with back-off and counts the restarts', async () => {
    const r = await start(spec({ instanceId: 'crashy-1', env: { QUBOT_FAULT_CRASH_AFTER_S: '0.3' } }));
    await expect
      .poll(async () => (await driver.status(r)).restarts, { timeout: 15_000, interval: 100 })
      .toBeGreaterThanOrEqual(2);
    const st = await driver.status(r);
    expect(st.lastExitCode).toBe(70);
    expect(st.supervisorAlive).toBe(true);
    expect((await driver.logs(r, 200)).join('\n')).toMatch(/restarting in \d+ ms/);
  });

  it('puts a new supervisor over an instance whose supervisor was SIGKILLed, keeping the process and its port', async () => {
    const r = await start(spec({ instanceId: 'lost-sup-1' }));
    expect((await driver.waitHealthy([r], 15_000)).ok).toBe(true);
    const before = await driver.status(r);
    process.kill(r.supervisorPid, 'SIGKILL');
    await expect.poll(async () => (await driver.status(r)).supervisorAlive).toBe(false);

    const back = await driver.resupervise(r.id);
    expect(back?.adopted).toBe(true);
    expect(back?.record.supervisorPid).not.toBe(r.supervisorPid);
    const after = await driver.status(r);
    // Same process, same port: nothing was restarted, nothing to re-route.
    expect(after).toMatchObject({ supervisorAlive: true, alive: true, pid: before.pid });
    expect((await driver.checkHealth(r, 2_000)).healthy).toBe(true);
    // Idempotent: a second round finds the new supervisor alive and does nothing.
    expect((await driver.resupervise(r.id))?.record.supervisorPid).toBe(back?.record.supervisorPid);

    // The new supervisor restarts the adopted process when it dies, like its own.
    process.kill(before.pid as number, 'SIGKILL');
    await expect.poll(async () => (await driver.status(r)).pid, { timeout: 15_000 }).not.toBe(before.pid);
    expect((await driver.waitHealthy([r], 15_000)).ok).toBe(true);

    // Stopping goes through the new supervisor and takes the instance down with it.
    const restarted = (await driver.status(r)).pid;
    await driver.stop({ id: r.id });
    expect(isAlive(restarted)).toBe(false);
    expect(isAlive(back?.record.supervisorPid)).toBe(false);
  });

  it('finds a supervisor no file names yet (the control plane died right after spawning it) instead of starting a second', async () => {
    const r = await start(spec({ instanceId: 'unrecorded-1' }));
    expect((await driver.waitHealthy([r], 15_000)).ok).toBe(true);
    // As just after the spawn: the record still has the draft's pid 0 and no status file exists.
    const dir = driver.instanceDir(r.id);
    writeFileSync(join(dir, 'record.json'), JSON.stringify({ ...r, supervisorPid: 0 }));
    rmSync(join(dir, 'status.json'));
    const back = await driver.resupervise(r.id);
    expect(back).toMatchObject({ adopted: false, record: { supervisorPid: r.supervisorPid } });
    expect(isAlive(r.supervisorPid)).toBe(true);
    await driver.stop({ id: r.id });
    expect(isAlive(r.supervisorPid)).toBe(false);
  });

  it('starts the instance again on its port when both it and its supervisor were killed', async () => {
    const r = await start(spec({ instanceId: 'lost-both-1' }));
    expect((await driver.waitHealthy([r], 15_000)).ok).toBe(true);
    const st = await driver.status(r);
    // The whole process group: supervisor and instance.
    process.kill(-r.supervisorPid, 'SIGKILL');
    // Both gone: on a busy machine the supervisor can still be running (its SIGKILL not yet
    // taken) after the instance died, and a live supervisor is left alone by resupervise.
    await expect.poll(() => isAlive(st.pid) || isAlive(r.supervisorPid)).toBe(false);
    const back = await driver.resupervise(r.id);
    expect(back?.adopted).toBe(false);
    expect(back?.record.port).toBe(r.port);
    const w = await driver.waitHealthy([r], 15_000);
    const why = { results: w.results, status: await driver.status(r), log: await driver.logs(r, 40) };
    expect(w.ok, JSON.stringify(why, null, 1)).toBe(true);
    expect((await driver.status(r)).supervisorPid).toBe(back?.record.supervisorPid);
    expect(await driver.resupervise('never-started')).toBeNull();
  });

  it('keeps instances running after the control plane that started them exits, and adopts them', async () => {
    const parent = spawn(
      process.execPath,
      [
        '--import',
        tsxLoader(),
        join(RUNTIME_SRC_DIR, 'test-fixtures', 'start-and-exit.ts'),
        dataDir,
        WORKSPACE,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    parent.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const [code] = (await once(parent, 'exit')) as [number];
    expect(code).toBe(0);
    const record = JSON.parse(out) as InstanceRecord;
    started.push(record);
    expect(isAlive(parent.pid)).toBe(false);

    const fresh = new LocalDriver({ dataDir, workspaceDir: WORKSPACE, stopTimeoutMs: 3_000 });
    expect((await fresh.waitHealthy([record], 15_000)).ok).toBe(true);
    const [adopted] = await fresh.adopt([
      { id: record.id, supervisorPid: record.supervisorPid, port: record.port, logPath: record.logPath },
    ]);
    expect(adopted).toMatchObject({ id: 'orphan-1', alive: true, answering: true, healthy: true });
    expect(adopted?.record?.pid).toBeGreaterThan(0);
    expect(fresh.list()).toHaveLength(1);

    const [gone] = await fresh.adopt([{ id: 'no-such-instance', port: 1 }]);
    expect(gone).toMatchObject({ alive: false, record: null });

    // stopAll finds it from the data directory alone.
    await fresh.stopAll('test/outlive');
    expect(isAlive(record.supervisorPid)).toBe(false);
    expect(isAlive(adopted?.record?.pid)).toBe(false);
  });
});
