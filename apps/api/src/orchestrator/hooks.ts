// Deployment hooks (docs/hooks.md): the `runHook` command of a deployment, run as a job — a real
// child process started from the application's job launcher (admin-configured; never a shell line
// from a deployer), with the deployment's configuration in its environment, its output in a log
// file viewers follow live, and a timeout. Every run is a `hook_runs` row written before the
// process starts; a run whose control plane died is `interrupted` and never counts as passed.
import { join } from 'node:path';
import type { RunHookCommand } from '@qubot/core';
import { createDeploymentRepo, createTransact, type Database, type Tx } from '@qubot/db';
import {
  isJobProcess,
  JOB_LAUNCHER_PLACEHOLDERS,
  killJobGroup,
  parseLauncher,
  type RunningJob,
  startJob,
} from '@qubot/runtime';
import type { EffectiveConfigService } from '../services/effective-config.ts';

export interface HookVerdict {
  passed: boolean;
  message: string;
  /** Commits with the state machine's transition (the run's final row). */
  effects?: (tx: Tx) => Promise<void>;
}

const FINAL = ['succeeded', 'failed', 'timed_out', 'interrupted'];
const INTERRUPTED = 'interrupted: the control plane stopped while the hook ran; it is not counted as passed';

/** The program a job launcher runs (its first word; `node` is the control plane's own binary). */
function jobProgram(template: string | null): string {
  if (!template) return '\0';
  try {
    const first = parseLauncher(template, JOB_LAUNCHER_PLACEHOLDERS)[0] as string;
    return first === 'node' ? process.execPath : first;
  } catch {
    return '\0';
  }
}

export function createHookRunner(deps: {
  db: Pick<Database, 'prisma'>;
  /** Hook logs go under `<dataDir>/hooks/<deployment>/`. */
  dataDir: string;
  workspaceDir?: string;
  effectiveConfig?: EffectiveConfigService | undefined;
  /** Appends `deployment.updated` (the run is visible from its start). */
  announce: (tx: Tx, deploymentId: string, environmentId: string) => Promise<void>;
}) {
  const { prisma } = deps.db;
  const deployments = createDeploymentRepo(prisma);
  const transact = createTransact(prisma);
  /** Runs this process started, by row id: a re-executed command waits for its own run. */
  const running = new Map<string, RunningJob>();

  async function finish(
    id: string,
    data: { status: string; exitCode?: number | null; message: string },
    tx: Tx,
  ) {
    await tx.hookRun.updateMany({
      where: { id, status: 'running' },
      data: { ...data, finishedAt: new Date() },
    });
  }

  async function settle(
    id: string,
    job: RunningJob,
    label: string,
    signal: AbortSignal,
  ): Promise<HookVerdict> {
    const onAbort = () => job.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await job.done;
      if (signal.aborted) {
        await transact((tx) =>
          finish(id, { status: 'interrupted', exitCode: r.exitCode, message: INTERRUPTED }, tx),
        );
        signal.throwIfAborted();
      }
      const message = `${label}: ${r.message}`;
      return {
        passed: r.outcome === 'succeeded',
        message,
        effects: (tx) => finish(id, { status: r.outcome, exitCode: r.exitCode, message }, tx),
      };
    } finally {
      signal.removeEventListener('abort', onAbort);
      running.delete(id);
    }
  }

  async function run(deploymentId: string, cmd: RunHookCommand, signal: AbortSignal): Promise<HookVerdict> {
    const d = await deployments.getWithTarget(deploymentId);
    const label = `${cmd.phase}-deployment hook ${cmd.job}`;
    const existing = await prisma.hookRun.findUnique({
      where: { deploymentId_commandId: { deploymentId, commandId: cmd.id } },
    });
    if (existing) {
      const mine = running.get(existing.id);
      if (existing.status === 'running' && mine) return settle(existing.id, mine, label, signal);
      if (existing.status === 'running') {
        // Started by a control plane that is gone: whatever it does now, nobody watched it pass.
        // Still running (its parent died, not it): stop it, so it cannot finish behind our back.
        if (existing.pid && isJobProcess(existing.pid, jobProgram(d.application.jobLauncher)))
          killJobGroup(existing.pid);
        await transact((tx) => finish(existing.id, { status: 'interrupted', message: INTERRUPTED }, tx));
        return { passed: false, message: `${label}: ${INTERRUPTED}` };
      }
      if (FINAL.includes(existing.status))
        return { passed: existing.status === 'succeeded', message: existing.message ?? existing.status };
    }
    if (!d.application.jobLauncher) {
      return {
        passed: false,
        message: `${label}: application ${d.application.name} has no job launcher (an admin sets it)`,
      };
    }
    const config =
      deps.effectiveConfig !== undefined
        ? await deps.effectiveConfig.pinned(d.environmentId, d.configVersionId)
        : null;
    const release = await prisma.release.findUniqueOrThrow({ where: { id: d.releaseId } });
    const row = await transact(async (tx) => {
      const created = await tx.hookRun.create({
        data: { deploymentId, phase: cmd.phase, job: cmd.job, commandId: cmd.id, timeoutMs: cmd.timeoutMs },
      });
      const logPath = join(deps.dataDir, 'hooks', deploymentId, `${created.id}.log`);
      await tx.hookRun.update({ where: { id: created.id }, data: { logPath } });
      await deps.announce(tx, deploymentId, d.environmentId);
      return { ...created, logPath };
    });
    let job: RunningJob;
    try {
      job = await startJob({
        job: cmd.job,
        version: cmd.version,
        artifact: release.artifact,
        environment: d.environment.name,
        launcher: {
          command: d.application.jobLauncher,
          ...(d.application.launcherCwd ? { cwd: d.application.launcherCwd } : {}),
        },
        env: {
          ...config?.values,
          QUBOT_HOOK: cmd.phase,
          QUBOT_JOB: cmd.job,
          QUBOT_VERSION: cmd.version,
          QUBOT_ENVIRONMENT: d.environment.name,
          ...(d.environment.address ? { QUBOT_ADDRESS: d.environment.address } : {}),
          ...(config ? { QUBOT_CONFIG_VERSION: String(config.version) } : {}),
        },
        timeoutMs: cmd.timeoutMs,
        logPath: row.logPath,
        ...(deps.workspaceDir ? { workspaceDir: deps.workspaceDir } : {}),
      });
    } catch (err) {
      const message = `${label}: could not start: ${(err as Error).message}`;
      return { passed: false, message, effects: (tx) => finish(row.id, { status: 'failed', message }, tx) };
    }
    running.set(row.id, job);
    await prisma.hookRun.update({ where: { id: row.id }, data: { pid: job.pid } });
    return settle(row.id, job, label, signal);
  }

  return { run };
}
export type HookRunner = ReturnType<typeof createHookRunner>;
