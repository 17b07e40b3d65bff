// Promotion policies (docs/deployments.md "Promotion policies"): per environment, manual or
// automatic on a condition. The first environment deploys a new release whose test results
// passed; each later one promotes what has been live and healthy in the one before for a soak
// time, with its analysis clean. Protected environments (and those that require approval) only
// request: the deployment waits for a person's approval. Freeze windows, the promotion order and
// the one-active-deployment rule apply through DeploymentCommandService.launch, as for a person.
//
// Exactly once: each automatic deployment claims (environment, release) in policy_runs inside the
// deployment's own transaction, after the environment's row lock. Two evaluators (two worker
// processes) serialise on that lock and the unique pair; a crash before the commit leaves neither
// row, and the next evaluation (every worker sweeps at start, on events and at the next due time)
// decides again.
import type {
  EnvironmentPolicy,
  PolicyNext,
  PolicyPauseBody,
  PolicyRule,
  PromotionPolicy,
  UpdatePolicyBody,
} from '@qubot/api-contract';
import type { StrategyName } from '@qubot/core';
import {
  appendAudit,
  type DeploymentWriteRepo,
  type EnvironmentRepo,
  type PolicyRepo,
  type Prisma,
  type Transact,
  type Tx,
} from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import { type RequestContext, SYSTEM_ACTOR } from '../lib/request-context.ts';
import { appendEnvironmentUpdated } from '../views/environment-events.ts';
import type { CatalogService } from './catalog-service.ts';
import { assertStrategyOptions, type DeploymentCommandService } from './deployment-command-service.ts';
import type { FreezeService } from './freeze-service.ts';
import { requireReason } from './require-reason.ts';

export const DEFAULT_SOAK_SECONDS = 600;

type PolicyEnv = NonNullable<Awaited<ReturnType<PolicyRepo['find']>>>;

interface StoredPolicy {
  mode?: unknown;
  soakSeconds?: unknown;
  strategy?: unknown;
  options?: unknown;
  paused?: unknown;
  pausedBy?: unknown;
  pausedAt?: unknown;
  updatedBy?: unknown;
  updatedAt?: unknown;
}

const STRATEGIES: readonly StrategyName[] = ['blue-green', 'rolling', 'canary'];
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/** The stored JSON as the API shows it; anything unreadable reads as manual. */
export function policyView(
  env: Pick<PolicyEnv, 'position' | 'protected' | 'requiresApproval' | 'policy'>,
  first: boolean,
): PromotionPolicy {
  const p = (env.policy ?? {}) as StoredPolicy;
  const strategy = STRATEGIES.includes(p.strategy as StrategyName)
    ? (p.strategy as StrategyName)
    : 'blue-green';
  return {
    mode: p.mode === 'auto' ? 'auto' : 'manual',
    rule: first ? 'tests_passed' : 'soak',
    soakSeconds: typeof p.soakSeconds === 'number' ? p.soakSeconds : DEFAULT_SOAK_SECONDS,
    strategy,
    options:
      p.options && typeof p.options === 'object' && !Array.isArray(p.options)
        ? (p.options as Record<string, unknown>)
        : {},
    requestsApproval: env.protected || env.requiresApproval,
    paused: p.paused === true,
    pausedBy: str(p.pausedBy),
    pausedAt: str(p.pausedAt),
    updatedBy: str(p.updatedBy),
    updatedAt: str(p.updatedAt),
  };
}

/** A release's test results passed: some ran, none failed. */
export function testsPassed(results: unknown): boolean {
  const r = results as { passed?: unknown; failed?: unknown } | null;
  return !!r && typeof r.passed === 'number' && r.passed > 0 && r.failed === 0;
}

/** Whether a deployment's analysis found nothing wrong (no failed verdict). */
export function analysisClean(analysis: unknown): boolean {
  if (!Array.isArray(analysis)) return true;
  return !analysis.some((a) => {
    const r = a as { verdict?: unknown; checks?: unknown };
    if (r.verdict === 'failed') return true;
    return Array.isArray(r.checks) && r.checks.some((c) => (c as { verdict?: unknown }).verdict === 'failed');
  });
}

/** The actor every automatic action is recorded as. */
export const policyActor = (envName: string) => `policy:${envName}`;

function policyContext(envName: string): RequestContext {
  const name = policyActor(envName);
  const ctx: RequestContext = {
    actor: { ...SYSTEM_ACTOR, name },
    requestId: `policy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    clientIp: null,
    userAgent: null,
    auditFields: () => ({
      actor: name,
      role: SYSTEM_ACTOR.role,
      requestId: ctx.requestId,
      clientIp: null,
      userAgent: null,
    }),
  };
  return ctx;
}

/** What the evaluation found: the candidate, when it is due, and what stands in its way now. */
export interface Decision {
  next: PolicyNext;
  /** Set when the policy should act now. */
  act: {
    rule: PolicyRule;
    release: { id: string; version: string };
    kind: 'deploy' | 'promote';
    reason: string;
    facts: Record<string, unknown>;
  } | null;
}

export interface EvaluationResult {
  environment: string;
  /** The deployment the policy created in this evaluation, or null. */
  deploymentId: string | null;
  next: PolicyNext;
}

/** Test seams for the crash tests (policy-crash.test.ts): a process killed at these points. */
export interface PolicyHooks {
  /** The decision is made; nothing is written yet. */
  afterDecide?: (d: { environmentId: string; version: string }) => Promise<void>;
  /** The deployment and the claim are written, the transaction is not committed. */
  beforeCommit?: (d: { environmentId: string; version: string; deploymentId: string }) => Promise<void>;
}

const idle = (summary: string, version: string | null = null): PolicyNext => ({
  state: 'idle',
  action: null,
  version,
  at: null,
  blockedBy: null,
  summary,
});

export function createPolicyService(deps: {
  transact: Transact;
  policies: PolicyRepo;
  environments: Pick<EnvironmentRepo, 'pipeline' | 'lock'>;
  deploymentWrites: Pick<DeploymentWriteRepo, 'findActive'>;
  catalog: Pick<CatalogService, 'requireEnvironment' | 'requireApp'>;
  freeze: Pick<FreezeService, 'activeWindows'>;
  commands: Pick<DeploymentCommandService, 'launch' | 'snapshot'>;
  hooks?: PolicyHooks;
  now?: () => Date;
}) {
  const { policies } = deps;
  const now = deps.now ?? (() => new Date());

  async function isFirst(env: PolicyEnv, tx?: Tx) {
    const pipeline = await deps.environments.pipeline(env.applicationId, tx);
    const idx = pipeline.findIndex((e) => e.id === env.id);
    return { pipeline, idx, first: idx === 0 };
  }

  /** What the policy of `env` would do, and whether it should act now. Reads keyed rows only. */
  async function decide(env: PolicyEnv, at: Date): Promise<Decision> {
    const { pipeline, idx, first } = await isFirst(env);
    const policy = policyView(env, first);
    const verb = first ? 'deploys' : 'promotes';
    if (policy.mode === 'manual')
      return {
        act: null,
        next: { ...idle('manual: deployments here are started by people'), state: 'manual' },
      };
    if (policy.paused)
      return {
        act: null,
        next: {
          ...idle(`paused${policy.pausedBy ? ` by ${policy.pausedBy}` : ''}: nothing happens automatically`),
          state: 'paused',
        },
      };

    let candidate: { id: string; version: string };
    let dueAt: Date;
    let facts: Record<string, unknown>;
    let reason: string;
    if (first) {
      const rel = await policies.newestRelease(env.applicationId);
      if (!rel) return { act: null, next: idle('waits for a release whose tests passed') };
      if (!testsPassed(rel.testResults)) {
        return {
          act: null,
          next: idle(
            `waits for a release whose tests passed (${rel.version}, the newest, did not report passing tests)`,
            rel.version,
          ),
        };
      }
      candidate = rel;
      dueAt = rel.createdAt;
      facts = { testResults: rel.testResults };
      const t = rel.testResults as { passed: number; failed: number };
      reason = `policy rule tests_passed: ${rel.version} passed its tests (${t.passed} passed, ${t.failed} failed)`;
    } else {
      const prev = pipeline[idx - 1];
      const prevEnv = prev ? await policies.find(prev.id) : null;
      if (!prev || !prevEnv?.liveReleaseId)
        return {
          act: null,
          next: idle(`waits for a release live in ${prev?.name ?? 'the previous environment'}`),
        };
      const [rel, went] = await Promise.all([
        policies.release(prevEnv.liveReleaseId),
        policies.lastSucceeded(prevEnv.liveReleaseId, prev.id),
      ]);
      if (!rel || !went?.finishedAt)
        return { act: null, next: idle(`waits for a release to succeed in ${prev.name}`) };
      candidate = rel;
      dueAt = new Date(went.finishedAt.getTime() + policy.soakSeconds * 1000);
      facts = {
        from: prev.name,
        liveSince: went.finishedAt.toISOString(),
        soakSeconds: policy.soakSeconds,
        deploymentId: went.id,
      };
      reason = `policy rule soak: ${rel.version} live and healthy in ${prev.name} for ${policy.soakSeconds}s, analysis clean`;
      if (!analysisClean(went.analysis)) {
        return {
          act: null,
          next: {
            state: 'blocked',
            action: 'promote',
            version: rel.version,
            at: null,
            blockedBy: `its analysis in ${prev.name} was not clean`,
            summary: `will not promote ${rel.version}: its analysis in ${prev.name} was not clean`,
          },
        };
      }
    }
    if (env.liveReleaseId === candidate.id)
      return { act: null, next: idle(`${candidate.version} is live here`, candidate.version) };
    if ((await policies.findRun(env.id, candidate.id)) || (await policies.everDeployed(candidate.id, env.id)))
      return {
        act: null,
        next: idle(
          `${candidate.version} was already deployed here; waits for a newer one`,
          candidate.version,
        ),
      };

    const action = first ? 'deploy' : 'promote';
    const request = policy.requestsApproval ? ' (requests approval)' : '';
    const condition = first ? '' : ' if still healthy';
    if (dueAt > at) {
      return {
        act: null,
        next: {
          state: 'scheduled',
          action,
          version: candidate.version,
          at: dueAt.toISOString(),
          blockedBy: null,
          summary: `${verb} ${candidate.version} at ${dueAt.toISOString()}${condition}${request}`,
        },
      };
    }
    const blocked = (why: string): Decision => ({
      act: null,
      next: {
        state: 'blocked',
        action,
        version: candidate.version,
        at: null,
        blockedBy: why,
        summary: `${verb} ${candidate.version} when no longer held by ${why}`,
      },
    });
    if (!first) {
      const prev = pipeline[idx - 1] as { id: string; name: string };
      const snap = await deps.commands.snapshot(prev.id);
      const pool = snap.activeColor ? snap.pools[snap.activeColor] : null;
      if (
        snap.liveReleaseId !== candidate.id ||
        !pool ||
        pool.instances === 0 ||
        pool.healthy < pool.instances
      )
        return blocked(`${candidate.version} is not healthy in ${prev.name}`);
    }
    const active = await deps.deploymentWrites.findActive(env.id);
    if (active) return blocked(`the active deployment ${active.id}`);
    const frozen = await deps.freeze.activeWindows(env.id, at);
    if (frozen[0]) return blocked(`the freeze window "${frozen[0].reason}"`);
    return {
      act: { rule: first ? 'tests_passed' : 'soak', release: candidate, kind: action, reason, facts },
      next: {
        state: 'scheduled',
        action,
        version: candidate.version,
        at: at.toISOString(),
        blockedBy: null,
        summary: `${verb} ${candidate.version} now${request}`,
      },
    };
  }

  /** Decide, and act when due. Safe to run in several processes at once (see the file's head). */
  async function evaluate(environmentId: string): Promise<EvaluationResult> {
    const env = await policies.find(environmentId);
    if (!env) throw AppError.notFound(`environment ${environmentId}`);
    const at = now();
    const d = await decide(env, at);
    if (!d.act) return { environment: env.name, deploymentId: null, next: d.next };
    const act = d.act;
    const policy = policyView(env, act.rule === 'tests_passed');
    await deps.hooks?.afterDecide?.({ environmentId: env.id, version: act.release.version });
    try {
      const dep = await deps.commands.launch(policyContext(env.name), env.application.name, env.name, {
        kind: act.kind,
        version: act.release.version,
        strategy: policy.strategy,
        options: policy.options,
        reason: act.reason,
        auditAction: act.kind === 'deploy' ? 'deployment.create' : 'environment.promote',
        auditExtra: { policy: { rule: act.rule, ...act.facts } },
        requireApproval: policy.requestsApproval,
        claim: async (tx, deploymentId) => {
          const won = await policies.claim(
            { environmentId: env.id, releaseId: act.release.id, deploymentId, rule: act.rule },
            tx,
          );
          if (!won)
            throw AppError.conflict(`the policy already deployed ${act.release.version} to ${env.name}`, {
              reason: 'policy_already_ran',
            });
          await deps.hooks?.beforeCommit?.({
            environmentId: env.id,
            version: act.release.version,
            deploymentId,
          });
        },
      });
      return { environment: env.name, deploymentId: dep.id, next: d.next };
    } catch (err) {
      // Another process got there first, a freeze window or the promotion order said no: the
      // policy waits and the next evaluation shows why.
      if (err instanceof AppError && err.statusCode < 500) {
        return {
          environment: env.name,
          deploymentId: null,
          next: {
            ...d.next,
            state: 'blocked',
            at: null,
            blockedBy: err.message,
            summary: `waits: ${err.message}`,
          },
        };
      }
      throw err;
    }
  }

  async function view(env: PolicyEnv, first: boolean, at: Date): Promise<EnvironmentPolicy> {
    const { next } = await decide(env, at);
    return { environment: env.name, policy: policyView(env, first), next, at: at.toISOString() };
  }

  async function requireEnv(appName: string, envName: string) {
    const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
    const row = await policies.find(env.id);
    if (!row) throw AppError.notFound(`environment "${envName}" of "${appName}"`, { field: 'params.env' });
    return { app, env: row };
  }

  async function writePolicy(
    ctx: RequestContext,
    app: { id: string; name: string },
    env: PolicyEnv,
    action: 'policy.update' | 'policy.pause' | 'policy.resume',
    change: (before: StoredPolicy) => StoredPolicy,
    reason: string | null,
  ): Promise<EnvironmentPolicy> {
    await deps.transact(async (tx) => {
      // Serialised with deployments and settings changes on the environment's row.
      await deps.environments.lock(env.id, tx);
      const locked = await policies.find(env.id, tx);
      const before = (locked?.policy ?? {}) as StoredPolicy;
      const after = { ...change(before), updatedBy: ctx.actor.name, updatedAt: now().toISOString() };
      await policies.setPolicy(env.id, after as Prisma.InputJsonValue, tx);
      await appendAudit(tx, {
        ...ctx.auditFields(),
        action,
        targetType: 'environment',
        targetId: env.id,
        target: `${app.name}/${env.name}`,
        reason,
        before: before as Prisma.InputJsonValue,
        after: after as Prisma.InputJsonValue,
      });
      await appendEnvironmentUpdated(tx, { id: env.id, applicationId: app.id, name: env.name });
    });
    const row = await policies.find(env.id);
    const { first } = await isFirst(row as PolicyEnv);
    return view(row as PolicyEnv, first, now());
  }

  async function setPaused(
    ctx: RequestContext,
    appName: string,
    envName: string,
    paused: boolean,
    body: PolicyPauseBody,
  ) {
    const { app, env } = await requireEnv(appName, envName);
    requirePermission(ctx, 'promote', {
      application: app.name,
      environment: { name: env.name, protected: env.protected },
    });
    return writePolicy(
      ctx,
      app,
      env,
      paused ? 'policy.pause' : 'policy.resume',
      (before) =>
        paused
          ? { ...before, paused: true, pausedBy: ctx.actor.name, pausedAt: now().toISOString() }
          : { ...before, paused: false, pausedBy: null, pausedAt: null },
      body.reason?.trim() || null,
    );
  }

  return {
    decide,
    evaluate,
    /** Evaluate every automatic policy; returns when the earliest scheduled one is due. */
    async sweep(): Promise<{ results: EvaluationResult[]; nextDueAt: Date | null }> {
      const results: EvaluationResult[] = [];
      let nextDueAt: Date | null = null;
      for (const env of await policies.listAutomatic()) {
        const r = await evaluate(env.id);
        results.push(r);
        if (r.next.state === 'scheduled' && r.next.at && !r.deploymentId) {
          const due = new Date(r.next.at);
          if (!nextDueAt || due < nextDueAt) nextDueAt = due;
        }
      }
      return { results, nextDueAt };
    },

    /** GET /apps/:app/policies — each environment's policy and what it will do next. */
    async list(
      ctx: RequestContext,
      appName: string,
    ): Promise<{ items: EnvironmentPolicy[]; nextCursor: null }> {
      requirePermission(ctx, 'read', { application: appName });
      const app = await deps.catalog.requireApp(appName);
      const rows = await policies.listForApplication(app.id);
      const at = now();
      const items = await Promise.all(rows.map((r, i) => view(r, i === 0, at)));
      return { items, nextCursor: null };
    },

    /** PUT /apps/:app/environments/:env/policy (admin). */
    async update(ctx: RequestContext, appName: string, envName: string, body: UpdatePolicyBody) {
      const { app, env } = await requireEnv(appName, envName);
      requirePermission(ctx, 'settings.manage', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      if (env.protected) requireReason(body.reason, `${env.name} is a protected environment`);
      const current = policyView(env, false);
      const strategy = body.strategy ?? current.strategy;
      const options =
        body.options ?? (body.strategy && body.strategy !== current.strategy ? {} : current.options);
      assertStrategyOptions(strategy, options, env.protected);
      return writePolicy(
        ctx,
        app,
        env,
        'policy.update',
        (before) => ({
          ...before,
          mode: body.mode,
          soakSeconds: body.soakSeconds ?? current.soakSeconds,
          strategy,
          options,
          paused: before.paused === true,
        }),
        body.reason?.trim() || null,
      );
    },

    /** POST …/policy/pause — one click: nothing automatic happens here until resumed. */
    pause: (ctx: RequestContext, appName: string, envName: string, body: PolicyPauseBody) =>
      setPaused(ctx, appName, envName, true, body),
    /** POST …/policy/resume */
    resume: (ctx: RequestContext, appName: string, envName: string, body: PolicyPauseBody) =>
      setPaused(ctx, appName, envName, false, body),
  };
}
export type PolicyService = ReturnType<typeof createPolicyService>;
