// Resource limits with real control groups and real processes: the memory limit OOM-kills an
// instance that allocates past it (reported as OOM, with the figures), a CPU limit throttles a busy
// one, and the group is created per instance and removed with it. Needs a writable cgroup
// hierarchy (root); elsewhere the tests say why they do not run, and how many ran.
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectCgroups } from './cgroups.ts';
import { LocalDriver } from './local-driver.ts';
import { RUNTIME_SRC_DIR } from './proc.ts';
import type { InstanceRecord, InstanceSpec, InstanceStatus } from './types.ts';

const WORKSPACE = resolve(RUNTIME_SRC_DIR, '../../..');
const HOG = 'node packages/runtime/src/test-fixtures/hog.mjs {artifact}';
const PARENT = `qubot-test-${process.pid}`;
const support = detectCgroups('/sys/fs/cgroup', PARENT);
const why = support.writable ? null : support.reason;
let ran = 0;

const dataDir = mkdtempSync(join(tmpdir(), 'qubot-cgroups-'));
const driver = new LocalDriver({
  dataDir,
  workspaceDir: WORKSPACE,
  stopTimeoutMs: 3_000,
  backoff: { initialMs: 100, maxMs: 400 },
  cgroupParent: PARENT,
});
const started: InstanceRecord[] = [];

const spec = (id: string, resources: InstanceSpec['resources']): InstanceSpec => ({
  instanceId: id,
  environment: 'test/cgroups',
  version: '1.0.0',
  artifact: 'hog',
  pool: 'blue',
  launcher: { command: HOG },
  resources,
});

async function start(s: InstanceSpec) {
  const r = await driver.start(s);
  started.push(r);
  const h = await driver.waitHealthy([r], 20_000);
  expect(h.ok, JSON.stringify(h.results)).toBe(true);
  return r;
}

/** Polls the supervisor's status file until `pred` holds (the supervisor writes it on every change). */
async function statusUntil(id: string, pred: (s: InstanceStatus) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await driver.status({ id });
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`status of ${id} never matched: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => driver.stop(r)));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  if (support.writable) {
    for (const dir of support.version === 2
      ? [join(support.root, PARENT)]
      : [join(support.root, 'memory', PARENT), join(support.root, 'cpu', PARENT)]) {
      try {
        rmdirSync(dir);
      } catch {
        // already gone
      }
    }
  }
  console.log(
    why
      ? `cgroup tests: 0 ran — control groups are not writable here: ${why}`
      : `cgroup tests: ${ran} ran against cgroup v${support.version}`,
  );
});

describe.skipIf(why !== null)(`resource limits with cgroups${why ? ` — skipped: ${why}` : ''}`, () => {
  it('declares the capability and puts the instance process in its own group, removed on stop', async () => {
    ran++;
    expect(driver.capabilities).toMatchObject({ hosts: 'local', cgroups: true, cgroupsUnavailable: null });
    const r = await start(spec('cg-place', { memoryMb: 128 }));
    const st = await driver.status(r);
    // Serving, so past the wrapper that moves it into the group before the application runs.
    const groups = readFileSync(`/proc/${st.pid}/cgroup`, 'utf8');
    expect(groups).toContain(`/${PARENT}/cg-place`);
    // The supervisor is not in it (its memory must not count against the instance's limit).
    expect(readFileSync(`/proc/${st.supervisorPid}/cgroup`, 'utf8')).not.toContain(`/${PARENT}/cg-place`);
    const place = driver.placement('cg-place');
    expect(place && existsSync(place.memoryDir)).toBe(true);
    expect(driver.resourceUsage(r)?.memoryLimitBytes).toBe(128 * 1024 * 1024);
    await driver.stop(r);
    started.splice(0);
    expect(existsSync(place?.memoryDir ?? '')).toBe(false);
    expect(existsSync(place?.cpuDir ?? '')).toBe(false);
  });

  it('an instance allocating past its memory limit is OOM-killed and reported as OOM with the figures', async () => {
    ran++;
    const r = await start(spec('cg-oom', { memoryMb: 64 }));
    const before = await driver.status(r);
    expect(before.oomKills).toBe(0);
    // Asks for far more than the limit: the kernel kills it before it can answer.
    const res = await fetch(`${r.url}/alloc?mb=300`).then(
      (x) => x.status,
      (err: Error) => err.message,
    );
    expect(res).not.toBe(200);
    const st = await statusUntil(r.id, (s) => s.oomKills > 0);
    expect(st.lastExitReason).toBe('oom');
    expect(st.lastExitSignal).toBe('SIGKILL');
    expect(st.lastOom?.limitBytes).toBe(64 * 1024 * 1024);
    // The peak reached the limit (give or take the kernel's accounting granularity).
    expect(st.lastOom?.peakBytes).toBeGreaterThan(60 * 1024 * 1024);
    expect(st.lastOom?.peakBytes).toBeLessThanOrEqual(64 * 1024 * 1024 + 1);
    // The supervisor starts it again, in the same group, and it serves.
    const again = await statusUntil(r.id, (s) => s.alive && s.pid !== before.pid);
    expect(again.restarts).toBeGreaterThan(before.restarts);
    expect((await driver.waitHealthy([r], 20_000)).ok).toBe(true);
    // Serving, so past the wrapper that moves it into the group before the application runs.
    expect(readFileSync(`/proc/${again.pid}/cgroup`, 'utf8')).toContain(`/${PARENT}/cg-oom`);
    // A clean stop afterwards is not an OOM.
    expect((await driver.status(r)).oomKills).toBe(1);
  });

  it('a CPU limit of 0.2 CPU throttles a busy process', async () => {
    ran++;
    const limited = await start(spec('cg-cpu', { cpus: 0.2 }));
    const free = await start(spec('cg-free', {}));
    const burn = async (r: InstanceRecord) =>
      (await (await fetch(`${r.url}/burn?ms=2000`)).json()) as { wallMs: number; cpuMs: number };
    const [slow, fast] = [await burn(limited), await burn(free)];
    const usage = driver.resourceUsage(limited);
    console.log(
      `cpu: limited to 0.2 CPU got ${slow.cpuMs.toFixed(0)} ms of CPU in ${slow.wallMs} ms (${((100 * slow.cpuMs) / slow.wallMs).toFixed(0)} %), throttled ${usage?.cpuThrottledPeriods} periods / ${usage?.cpuThrottledUsec} µs; unlimited got ${fast.cpuMs.toFixed(0)} ms`,
    );
    // 0.2 CPU over 2 s is 400 ms; slack for the period boundaries and the process's other threads.
    expect(slow.cpuMs / slow.wallMs).toBeLessThan(0.3);
    // The kernel held it back: it ran out of quota in period after period. (How long it was held
    // depends on how much CPU the shared machine had to give, so only the count is asserted.)
    expect(usage?.cpuThrottledPeriods).toBeGreaterThan(5);
    expect(usage?.cpuThrottledUsec).toBeGreaterThan(0);
    // The same work without a limit is never throttled (however busy the machine is).
    expect(driver.resourceUsage(free)?.cpuThrottledPeriods).toBe(0);
    expect(fast.cpuMs).toBeGreaterThan(0);
  });
});

describe('without control groups', () => {
  it('declares that limits are not enforced, and why', () => {
    const off = new LocalDriver({ dataDir, cgroups: false });
    expect(off.capabilities.cgroups).toBe(false);
    expect(off.capabilities.cgroupsUnavailable).toMatch(/switched off/);
    const missing = new LocalDriver({ dataDir, cgroupRoot: join(dataDir, 'no-such-hierarchy') });
    expect(missing.capabilities.cgroupsUnavailable).toMatch(/no cgroup v2 or v1/);
  });
});
