// The write side of deployments: create one, and pause/resume/abort/advance/approve it.
// Permission first, then the business rules, then one transaction (row, steps, audit, events);
// the orchestrator is woken only after the commit.
import type {
  AuditAction,
  ConfigRolloutBody,
  CreateDeploymentBody,
  Deployment,
  DeploymentActionName,
  ResourcesChange,
  RuntimeInfo,
  UpdateResourcesBody,
} from '@qubot/api-contract';
import {
  type Color,
  type DeploymentInput,
  type DeploymentState,
  initialState,
  isTerminalStatus,
  parseStrategyOptions,
  type StrategyName,
} from '@qubot/core';
import {
  type AuditInput,
  appendAudit,
  type ConfigRepo,
  type DeploymentRepo,
  type DeploymentWriteRepo,
  type EnvironmentRepo,
  type InstanceRepo,
  type Prisma,
  type ReleaseRepo,
  TRANSACTION_MAX_WAIT_MS,
  type Transact,
  type Tx,
} from '@qubot/db';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { assertCanApprove, requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { prometheusSettingOf } from '../orchestrator/prometheus-analysis.ts';
import { kubernetesSettingsOf } from '../views/runtime-target-view.ts';
import { deploymentView, environmentView, strategyFromWire, strategyToWire } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { FreezeService } from './freeze-service.ts';
import { promotionGate } from './promotion-gate.ts';
import { requireReason } from './require-reason.ts';

export interface EnvironmentSnapshot {
  liveVersion: string | null;
  liveReleaseId: string | null;
  activeColor: Color | null;
  replicas: number;
  pools: Record<
    Color,
    {
      version: string | null;
      instances: number;
      healthy: number;
      /** Configuration versions its instances were started with (null: none passed). */
      configVersions: (number | null)[];
    }
  >;
}

export interface LaunchSpec {
  kind: 'deploy' | 'promote' | 'rollback';
  version: string;
  strategy: StrategyName;
  options: unknown;
  reason: string | null;
  rollbackOfId?: string | null;
  /** Admins only, with `reason`: go ahead although the promotion order or verification gate refuses. */
  overridePromotionOrder?: boolean | undefined;
  /** Audit action recorded for the request (`deployment.create`, `environment.promote`, …). */
  auditAction: AuditAction;
  auditExtra?: Record<string, unknown>;
  /** Ship this configuration version (a redeploy) instead of the environment's current one. */
  configVersionId?: string | null;
  /**
   * Writes that commit with the deployment, under the environment's row lock, once the rules of a
   * deploy have passed (a resource change: the new limits and their audit entry).
   */
  withDeployment?: (tx: Tx, locked: EnvironmentRow) => Promise<void>;
  /** Wait for a person's approval even where the environment does not require it (a policy's request). */
  requireApproval?: boolean;
  /**
   * Runs in the deployment's transaction once its row exists, before the audit entry and the
   * events: a promotion policy records its claim here, so both commit or neither (it throws to
   * roll the deployment back).
   */
  claim?: (tx: Tx, deploymentId: string) => Promise<void>;
}

type EnvironmentRow = Awaited<ReturnType<EnvironmentRepo['lock']>>;
/** The environment's stored hooks (`environments.hooks`) as the state machine takes them. */
export function environmentHooks(stored: unknown): DeploymentInput['hooks'] {
  const h = (stored ?? {}) as Record<string, { job?: unknown; timeoutSeconds?: unknown } | null>;
  const one = (v: (typeof h)[string] | undefined) =>
    v && typeof v.job === 'string' && typeof v.timeoutSeconds === 'number'
      ? { job: v.job, timeoutMs: v.timeoutSeconds * 1000 }
      : null;
  return { pre: one(h.pre), post: one(h.post) };
}

/** Locks are taken first and nothing slow runs inside: a transaction that takes longer is a bug. */
const TX_TIMEOUT_MS = 10_000;

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'P2002';

/** A strategy's options as the core parses them; 400 naming the first field at fault (`body.options.…`). */
export function assertStrategyOptions(strategy: string, raw: unknown, isProtected: boolean): void {
  const parsed = parseStrategyOptions(strategy, raw ?? {}, { protected: isProtected });
  if (!parsed.ok) {
    const first = parsed.errors[0];
    const field = `body.${first?.field ?? 'options'}`;
    throw new AppError(ErrorCode.ValidationFailed, `${field} ${first?.message ?? 'is invalid'}`, {
      field,
      issues: parsed.errors.map((e) => ({ field: `body.${e.field}`, message: e.message })),
    });
  }
}

/**
 * A canary's analysis on a Kubernetes environment reads Prometheus: the cluster routes its
 * traffic, so no router of ours counts it (docs/kubernetes.md). Without a Prometheus analysis
 * source, 400 naming `body.options.analysis`.
 */
export function assertAnalysisSource(
  strategy: string,
  raw: unknown,
  env: { runtimeTarget: string; analysisPrometheus: unknown; protected: boolean },
): void {
  if (env.runtimeTarget !== 'kubernetes' || prometheusSettingOf(env.analysisPrometheus)) return;
  const parsed = parseStrategyOptions(strategy, raw ?? {}, { protected: env.protected });
  if (parsed.ok && parsed.strategy === 'canary' && parsed.options.analysis.enabled) {
    throw AppError.badField(
      'body.options.analysis',
      'a canary analysis on a kubernetes environment needs a Prometheus analysis source (PUT …/analysis-provider): the cluster routes the traffic and nothing else measures it; or set options.analysis.enabled to false',
    );
  }
}

export function createDeploymentCommandService(deps: {
  transact: Transact;
  deployments: Pick<DeploymentRepo, 'findById' | 'findWithScope' | 'findForRedeploy' | 'promotionFacts'>;
  deploymentWrites: Pick<
    DeploymentWriteRepo,
    | 'create'
    | 'lock'
    | 'findWithEnvironment'
    | 'findActive'
    | 'listCleaningUp'
    | 'recordApproval'
    | 'hasOpenWork'
  >;
  environments: Pick<EnvironmentRepo, 'lock' | 'findWithLiveVersion' | 'pipeline' | 'findView' | 'update'>;
  instances: Pick<InstanceRepo, 'listLive'>;
  releases: Pick<ReleaseRepo, 'find'>;
  configs: Pick<ConfigRepo, 'latest' | 'findById'>;
  catalog: Pick<CatalogService, 'requireEnvironment'>;
  freeze: Pick<FreezeService, 'assertNotFrozen'>;
  orchestrator: Pick<OrchestratorPort, 'applyIn' | 'announce' | 'wake' | 'runtimeInfo'>;
}) {
  const { transact, orchestrator, instances } = deps;
  const writes = deps.deploymentWrites;
  const reads = deps.deployments;

  async function view(id: string, tx?: Tx): Promise<Deployment> {
    const row = await reads.findById(id, tx);
    if (!row) throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
    return deploymentView(row);
  }

  /** What runs in the environment now, from the instances themselves (not from what we hoped). */
  async function snapshot(environmentId: string, tx?: Tx): Promise<EnvironmentSnapshot> {
    const env = await deps.environments.findWithLiveVersion(environmentId, tx);
    const live = (await instances.listLive(environmentId, undefined, tx)).filter(
      (i) => i.status !== 'stopping',
    );
    const pool = (c: Color) => {
      const members = live.filter((i) => i.pool === c);
      return {
        version: members[members.length - 1]?.release.version ?? null,
        instances: members.length,
        healthy: members.filter((i) => i.healthy).length,
        configVersions: [...new Set(members.map((i) => i.configVersion))],
      };
    };
    const pools = { blue: pool('blue'), green: pool('green') };
    // Nothing running in the active colour means nothing is live, whatever was deployed before.
    const active = env.activeColor && pools[env.activeColor].instances > 0 ? env.activeColor : null;
    return {
      liveVersion: active ? (env.liveRelease?.version ?? pools[active].version) : null,
      liveReleaseId: active ? env.liveReleaseId : null,
      activeColor: active,
      replicas: env.replicas,
      pools,
    };
  }

  /**
   * Create a deployment (any kind) in one transaction that starts by locking the environment's
   * row: the one-active-deployment check, the promotion order, the snapshot of what runs and the
   * plan are all decided under that lock, so no traffic switch, rollback or second deployment can
   * change the environment between the decision and the commit. The caller has checked permission
   * and the rules of its kind.
   */
  async function launch(
    ctx: RequestContext,
    appName: string,
    envName: string,
    spec: LaunchSpec,
    freeze: { override?: boolean | undefined } = {},
  ): Promise<Deployment> {
    const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
    const release = await deps.releases.find(app.id, spec.version);
    if (!release) {
      throw AppError.badField('body.version', `unknown version "${spec.version}" of ${app.name}`);
    }
    assertStrategyOptions(spec.strategy, spec.options, env.protected);
    if (env.protected) requireReason(spec.reason, `${env.name} is a protected environment`);
    // Refused early (before the one-active-deployment check); an override is checked and audited
    // inside the transaction below, so `freeze.override` commits or fails with the deployment.
    if (!freeze.override) await deps.freeze.assertNotFrozen(ctx, env.id);
    let id: string;
    try {
      id = await transact(
        async (tx) => {
          const locked = await deps.environments.lock(env.id, tx);
          const active = await writes.findActive(env.id, tx);
          if (active) throw activeConflict(env.name, active.id);
          if (locked.routerStatus === 'handover') {
            throw AppError.conflict(
              `the traffic provider of ${env.name} is being changed (to ${locked.trafficProvider}); deploy once it serves`,
              { reason: 'handover_in_progress' },
            );
          }
          assertAnalysisSource(spec.strategy, spec.options, locked);
          if (locked.protected !== env.protected) {
            assertStrategyOptions(spec.strategy, spec.options, locked.protected);
            if (locked.protected) requireReason(spec.reason, `${env.name} is a protected environment`);
          }
          await assertPromotionOrder(
            ctx,
            tx,
            { app, env: locked, release, kind: spec.kind },
            { override: spec.overridePromotionOrder, reason: spec.reason },
          );
          await deps.freeze.assertNotFrozen(
            ctx,
            env.id,
            { override: freeze.override, reason: spec.reason ?? undefined },
            tx,
          );
          await spec.withDeployment?.(tx, locked);
          const snap = await snapshot(env.id, tx);
          const idleColor: Color = snap.activeColor === 'blue' ? 'green' : 'blue';
          const configVersionId =
            spec.configVersionId !== undefined
              ? spec.configVersionId
              : ((await deps.configs.latest(env.id, tx))?.id ?? null);
          const shipped = configVersionId ? await deps.configs.findById(configVersionId, tx) : null;
          // A warm idle colour is reused only when it runs the configuration being shipped:
          // otherwise it is replaced (what "roll out configuration" relies on).
          const idle = snap.pools[idleColor];
          const idleMatches =
            idle.configVersions.length === 1 && idle.configVersions[0] === (shipped?.version ?? 0);
          const input: DeploymentInput = {
            strategy: spec.strategy,
            version: spec.version,
            fromVersion: snap.liveVersion,
            activeColor: snap.activeColor,
            replicas: locked.replicas,
            activeInstances: snap.activeColor ? snap.pools[snap.activeColor].instances : 0,
            idlePool: {
              version: idleMatches ? idle.version : null,
              instances: idle.instances,
            },
            hooks: environmentHooks(locked.hooks),
            // Kubernetes without a Gateway: canary weights are served as whole pods (replica ratio).
            ...(locked.runtimeTarget === 'kubernetes' && !kubernetesSettingsOf(locked.kubernetes)?.gateway
              ? { weightsByInstances: true }
              : {}),
            protected: locked.protected,
            requiresApproval: locked.requiresApproval || spec.requireApproval === true,
            // The environment's setting; the deployment's own options still override it.
            onInconclusive:
              locked.analysisOnInconclusive === 'fail' || locked.analysisOnInconclusive === 'wait'
                ? locked.analysisOnInconclusive
                : null,
            options: spec.options ?? {},
          };
          const state: DeploymentState = initialState(input, Date.now());
          const created = await writes.create(
            {
              applicationId: app.id,
              environmentId: env.id,
              releaseId: release.id,
              fromReleaseId: snap.liveReleaseId,
              kind: spec.kind,
              strategy: strategyFromWire(spec.strategy),
              options: state.options as unknown as Prisma.InputJsonValue,
              state: state as unknown as Prisma.InputJsonValue,
              progress: state.progress as unknown as Prisma.InputJsonValue,
              reason: spec.reason,
              actor: ctx.actor.name,
              actorUserId: ctx.actor.personId ?? null,
              rollbackOfId: spec.rollbackOfId ?? null,
              configVersionId,
              steps: state.steps,
            },
            tx,
          );
          await spec.claim?.(tx, created.id);
          // A succeeded deployment still keeping its old colour warm must not scale it down now.
          for (const old of await writes.listCleaningUp(env.id, tx)) {
            await orchestrator.applyIn(tx, old.id, { type: 'superseded' });
          }
          await appendAudit(tx, {
            ...ctx.auditFields(),
            action: spec.auditAction,
            targetType: 'deployment',
            targetId: created.id,
            target: `${app.name}/${env.name}`,
            reason: spec.reason,
            before: { liveVersion: snap.liveVersion, activeColor: snap.activeColor },
            after: {
              version: spec.version,
              strategy: spec.strategy,
              kind: spec.kind,
              options: state.options,
              ...spec.auditExtra,
            } as unknown as Prisma.InputJsonValue,
          });
          await orchestrator.announce(tx, created.id, env.id, true);
          return created.id;
        },
        { timeout: TX_TIMEOUT_MS, maxWait: TRANSACTION_MAX_WAIT_MS },
      );
    } catch (err) {
      // The partial unique index is the backstop should anything create a deployment unlocked.
      if (isUniqueViolation(err)) {
        const winner = await writes.findActive(env.id);
        throw activeConflict(env.name, winner?.id ?? null);
      }
      throw err;
    }
    await orchestrator.wake(id);
    return view(id);
  }

  /**
   * The promotion order (DESIGN §3): a release enters an environment after the first only once
   * it has succeeded in the one before, on every path (deploy, promote, API tokens). A release
   * that was live here before may come back (a rollback). Into a protected environment, a release
   * whose latest result in the previous environment is a failure or a rollback is refused too
   * (verification-gated promotion). An admin may override either rule with a reason; the
   * override is audited (`promotion.override`) in the deployment's transaction.
   */
  async function assertPromotionOrder(
    ctx: RequestContext,
    tx: Tx,
    target: {
      app: { id: string; name: string };
      env: { id: string; name: string; protected: boolean };
      release: { id: string; version: string };
      kind: LaunchSpec['kind'];
    },
    opts: { override?: boolean | undefined; reason: string | null },
  ) {
    if (target.kind === 'rollback') return;
    const gate = await promotionGate(
      deps,
      { applicationId: target.app.id, environment: target.env, release: target.release },
      tx,
    );
    if (!gate.blocked) return;
    if (!opts.override) {
      throw AppError.conflict(`${gate.blocked.message}; an admin can override with a reason`, {
        reason: gate.blocked.code,
        previous: gate.previous,
        rule: gate.blocked.code === 'not_succeeded_in_previous' ? 'promotion_order' : 'verification',
      });
    }
    requirePermission(ctx, 'freeze.override', { application: target.app.name });
    if (!opts.reason?.trim())
      throw AppError.badField('body.reason', 'is required to override the promotion order');
    await appendAudit(tx, {
      ...ctx.auditFields(),
      action: 'promotion.override',
      targetType: 'environment',
      targetId: target.env.id,
      target: `${target.app.name}/${target.env.name}`,
      reason: opts.reason,
      before: {
        previous: gate.previous,
        verification: gate.verification,
      } as unknown as Prisma.InputJsonValue,
      after: { version: target.release.version, rule: gate.blocked.code },
    });
  }

  /**
   * A new replica count for the environment, decided under its row lock (`locked`, taken by the
   * caller in `tx`): the row's `replicas` changes, and when something is live a `scale` deployment
   * of the live release carries the change out now — the same one-active-deployment rule, lease,
   * steps, events and audit as any deployment. Returns the scale's id (wake it after the commit),
   * or null when nothing is live (the next deployment starts with the new count). 409 while
   * another deployment is active or still has work to do (a rollback window keeps a colour warm).
   */
  async function scaleIn(
    ctx: RequestContext,
    tx: Tx,
    target: {
      app: { id: string; name: string };
      locked: { id: string; name: string; replicas: number; protected: boolean; routerStatus: string | null };
    },
    spec: {
      replicas: number;
      reason: string | null;
      auditAction: AuditAction;
      auditExtra?: Record<string, unknown>;
      /**
       * A drain (kind `drain`, docs/hosts.md): move the live pool's instances off this host, the
       * count unchanged (`replicas` is then the live pool's count). The host takes no new ones.
       */
      drain?: { hostId: string; host: string };
    },
  ): Promise<string | null> {
    const { app, locked } = target;
    const { drain } = spec;
    const field = drain ? 'params.id' : 'body.replicas';
    const what = drain ? `drain host ${drain.host}` : 'scale';
    const active = await writes.findActive(locked.id, tx);
    if (active) {
      throw AppError.conflict(
        `environment ${locked.name} already has an active deployment (${active.id}); ${what} once it is finished`,
        { field, reason: 'active_deployment', activeDeploymentId: active.id },
      );
    }
    if (await writes.hasOpenWork(locked.id, tx)) {
      throw AppError.conflict(
        `a deployment in ${locked.name} still has work to do (its rollback window keeps the old colour warm); ${what} once it is done`,
        { field, reason: 'open_work' },
      );
    }
    if (locked.routerStatus === 'handover') {
      throw AppError.conflict(
        `the traffic provider of ${locked.name} is being changed; ${what} once it serves`,
        {
          field,
          reason: 'handover_in_progress',
        },
      );
    }
    const snap = await snapshot(locked.id, tx);
    const before = {
      replicas: locked.replicas,
      instances: snap.activeColor ? snap.pools[snap.activeColor].instances : 0,
    };
    // What a drain moves: the live pool's instances on the host; any other live one there (an idle
    // colour, nothing live) has no place to go by this operation.
    const moving = drain
      ? (await instances.listLive(locked.id, undefined, tx)).filter(
          (i) => i.hostId === drain.hostId && i.status !== 'stopping',
        )
      : [];
    if (drain && (!snap.activeColor || moving.some((i) => i.pool !== snap.activeColor))) {
      throw AppError.conflict(
        `host ${drain.host} runs instances of ${locked.name} that are not its live pool; drain it once they are gone`,
        { field, reason: 'not_live' },
      );
    }
    if (!drain) await deps.environments.update(locked.id, { replicas: spec.replicas }, tx);
    let id: string | null = null;
    if (snap.activeColor && snap.liveVersion && snap.liveReleaseId) {
      const idleColor: Color = snap.activeColor === 'blue' ? 'green' : 'blue';
      const from = snap.pools[snap.activeColor].instances;
      const state: DeploymentState = initialState(
        {
          strategy: 'rolling',
          version: snap.liveVersion,
          fromVersion: snap.liveVersion,
          activeColor: snap.activeColor,
          replicas: drain ? from : spec.replicas,
          idlePool: { version: snap.pools[idleColor].version, instances: snap.pools[idleColor].instances },
          protected: locked.protected,
          scale: { from, ...(drain ? { drain: { host: drain.host, count: moving.length } } : {}) },
          options: {},
        },
        Date.now(),
      );
      const created = await writes.create(
        {
          applicationId: app.id,
          environmentId: locked.id,
          releaseId: snap.liveReleaseId,
          fromReleaseId: snap.liveReleaseId,
          kind: drain ? 'drain' : 'scale',
          strategy: 'rolling',
          options: state.options as unknown as Prisma.InputJsonValue,
          state: state as unknown as Prisma.InputJsonValue,
          progress: state.progress as unknown as Prisma.InputJsonValue,
          reason: spec.reason,
          actor: ctx.actor.name,
          actorUserId: ctx.actor.personId ?? null,
          rollbackOfId: null,
          configVersionId: (await deps.configs.latest(locked.id, tx))?.id ?? null,
          steps: state.steps,
        },
        tx,
      );
      id = created.id;
    }
    await appendAudit(tx, {
      ...ctx.auditFields(),
      action: spec.auditAction,
      targetType: id ? 'deployment' : 'environment',
      targetId: id ?? locked.id,
      target: `${app.name}/${locked.name}`,
      reason: spec.reason,
      before: before as Prisma.InputJsonValue,
      after: {
        replicas: drain ? before.instances : spec.replicas,
        ...(drain ? { host: drain.host, moving: moving.length } : {}),
        live: snap.liveVersion,
        pool: snap.activeColor,
        ...spec.auditExtra,
      } as unknown as Prisma.InputJsonValue,
    });
    await orchestrator.announce(tx, id, locked.id, true);
    return id;
  }

  function activeConflict(envName: string, activeId: string | null) {
    return AppError.conflict(
      `environment ${envName} already has an active deployment${activeId ? ` (${activeId})` : ''}; wait for it to finish or abort it`,
      { reason: 'active_deployment', activeDeploymentId: activeId },
    );
  }

  /** Apply a person's action to a deployment; 409 when it is finished or the action is not allowed now. */
  async function act(
    ctx: RequestContext,
    deploymentId: string,
    action: DeploymentActionName | 'switch' | 'rollback',
    reason: string | null,
    audit: { action: AuditAction } & Partial<AuditInput>,
  ): Promise<Deployment> {
    await transact(
      async (tx) => {
        // Locked first: the reason rule below is decided on the state the action is applied to.
        await writes.lock(deploymentId, tx);
        const d = await writes.findWithEnvironment(deploymentId, tx);
        if (isTerminalStatus(d.status)) {
          throw AppError.conflict(`deployment is ${d.status}: a finished deployment cannot be controlled`, {
            reason: 'finished',
            status: d.status,
          });
        }
        assertReasonGiven(action, reason, d.environment, d.state as unknown as DeploymentState);
        const res = await orchestrator.applyIn(
          tx,
          deploymentId,
          { type: action, actor: ctx.actor.name, ...(reason ? { reason } : {}) },
          {
            audit: {
              ...ctx.auditFields(),
              targetType: 'deployment',
              targetId: deploymentId,
              reason,
              ...audit,
            },
          },
        );
        if (res.kind === 'rejected' || res.kind === 'ignored') {
          throw AppError.conflict(res.message, { reason: 'not_allowed_now', status: res.state.status });
        }
        if (action === 'approve' && ctx.actor.personId) {
          await writes.recordApproval({ deploymentId, userId: ctx.actor.personId, comment: reason }, tx);
        }
      },
      { timeout: TX_TIMEOUT_MS, maxWait: TRANSACTION_MAX_WAIT_MS },
    );
    await orchestrator.wake(deploymentId);
    return view(deploymentId);
  }

  /**
   * Actions that move traffic or change a protected environment take a reason: on a protected
   * environment every action but pause and approve (a pause only holds; an approval's comment is
   * optional), and on any environment an advance that performs the traffic switch.
   */
  function assertReasonGiven(
    action: DeploymentActionName | 'switch' | 'rollback',
    reason: string | null,
    env: { name: string; protected: boolean },
    state: DeploymentState,
  ) {
    if (action === 'pause' || action === 'approve') return;
    if (env.protected) requireReason(reason, `${env.name} is a protected environment`);
    else if (action === 'advance' && state.waitingFor === 'switch')
      requireReason(reason, 'this advance switches all traffic to the new release');
  }

  async function requireDeployment(id: string) {
    const d = await reads.findWithScope(id);
    if (!d) throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
    return d;
  }

  /** An environment's limits as stored: memory in MiB, CPU in hundredths of a CPU. */
  function limitsOf(row: { memoryMb: number | null; cpuPercent: number | null }) {
    return { memoryMb: row.memoryMb, cpus: row.cpuPercent === null ? null : row.cpuPercent / 100 };
  }

  return {
    snapshot,
    launch,
    act,
    view,
    /** GET /runtime: the runtime driver and its capabilities (any signed-in reader). */
    runtimeInfo(ctx: RequestContext): Promise<RuntimeInfo> {
      requirePermission(ctx, 'read');
      return orchestrator.runtimeInfo();
    },
    /**
     * PUT /apps/:app/environments/:env/resources — per-instance CPU and memory limits. On a live
     * environment the new limits and a deployment of the live release (the chosen strategy,
     * default rolling) commit together, under the environment's row lock: the deployment starts
     * instances with the new limits and retires the others; a concurrent change, or any deployment
     * in progress, gets 409 and changes nothing. With nothing live, the limits apply to the next
     * deployment. Audited `environment.resources` (and the deployment as a deploy).
     */
    async changeResources(
      ctx: RequestContext,
      appName: string,
      envName: string,
      body: UpdateResourcesBody,
    ): Promise<ResourcesChange> {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'environment.scale', {
        application: app.name,
        environment: { name: env.name, protected: env.protected },
      });
      if (body.memoryMb === undefined && body.cpus === undefined)
        throw AppError.badField('body', 'give memoryMb or cpus (null lifts a limit)');
      const cpuPercent = body.cpus == null ? body.cpus : Math.round(body.cpus * 100);
      if (cpuPercent === 0) throw AppError.badField('body.cpus', 'must be at least 0.01');
      if (env.protected) requireReason(body.reason, `${env.name} is a protected environment`);
      const info = await orchestrator.runtimeInfo();
      const enforcement = {
        enforced: info.capabilities.cgroups,
        notEnforcedReason: info.capabilities.cgroupsUnavailable,
      };
      /** The new limits on the locked row, audited; false when they are what it has already. */
      const write = async (tx: Tx, locked: EnvironmentRow) => {
        const next = {
          memoryMb: body.memoryMb === undefined ? locked.memoryMb : body.memoryMb,
          cpuPercent: cpuPercent === undefined ? locked.cpuPercent : cpuPercent,
        };
        if (next.memoryMb === locked.memoryMb && next.cpuPercent === locked.cpuPercent) return false;
        await tx.environment.update({ where: { id: env.id }, data: next });
        await appendAudit(tx, {
          ...ctx.auditFields(),
          action: 'environment.resources',
          targetType: 'environment',
          targetId: env.id,
          target: `${app.name}/${env.name}`,
          reason: body.reason?.trim() || null,
          before: { ...limitsOf(locked), ...enforcement },
          after: { ...limitsOf(next), ...enforcement },
        });
        return true;
      };
      const current = await deps.environments.findWithLiveVersion(env.id);
      const liveVersion = current.liveRelease?.version ?? null;
      let deployment: Deployment | null = null;
      if (liveVersion) {
        try {
          deployment = await launch(
            ctx,
            app.name,
            env.name,
            {
              kind: 'deploy',
              version: liveVersion,
              strategy: body.strategy ?? 'rolling',
              options: body.options ?? {},
              reason: body.reason ?? null,
              auditAction: 'deployment.create',
              auditExtra: { cause: 'resources' },
              withDeployment: async (tx, locked) => {
                // The same limits again (a retry): nothing to roll.
                if (!(await write(tx, locked))) throw new Unchanged();
              },
            },
            { override: body.overrideFreeze },
          );
        } catch (err) {
          if (!(err instanceof Unchanged)) throw err;
        }
      } else {
        await transact(
          async (tx) => {
            const locked = await deps.environments.lock(env.id, tx);
            if (await write(tx, locked)) await orchestrator.announce(tx, null, env.id);
          },
          { timeout: TX_TIMEOUT_MS, maxWait: TRANSACTION_MAX_WAIT_MS },
        );
      }
      const row = await deps.environments.findView(app.id, env.name);
      if (!row)
        throw AppError.notFound(`environment "${env.name}" of "${app.name}"`, { field: 'params.env' });
      return { environment: environmentView(row), deployment, ...enforcement };
    },
    /** POST /apps/:app/environments/:env/deployments */
    async create(ctx: RequestContext, appName: string, envName: string, body: CreateDeploymentBody) {
      const { env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'deploy', {
        application: appName,
        environment: { name: env.name, protected: env.protected },
      });
      return launch(
        ctx,
        appName,
        envName,
        {
          kind: 'deploy',
          version: body.version,
          strategy: body.strategy,
          options: body.options ?? {},
          reason: body.reason ?? null,
          overridePromotionOrder: body.override,
          auditAction: 'deployment.create',
        },
        { override: body.overrideFreeze },
      );
    },
    /**
     * POST /apps/:app/environments/:env/config/rollout — "Roll out configuration": a deployment of
     * the live release that ships the current configuration, so instances started with an older
     * one are replaced. The rules of a deploy apply (permission, one active deployment, freeze
     * windows, approvals); 409 when nothing is live or nothing has drifted.
     */
    async rolloutConfig(ctx: RequestContext, appName: string, envName: string, body: ConfigRolloutBody) {
      const { app, env } = await deps.catalog.requireEnvironment(appName, envName);
      requirePermission(ctx, 'deploy', {
        application: appName,
        environment: { name: env.name, protected: env.protected },
      });
      const row = await deps.environments.findView(app.id, env.name);
      const view = row ? environmentView(row) : null;
      if (!view?.live)
        throw AppError.conflict(`nothing is live in ${env.name}: deploy a release first`, {
          reason: 'nothing_live',
        });
      if (!view.config?.drift)
        throw AppError.conflict(
          `nothing to roll out: every running instance of ${env.name} runs configuration version ${view.config?.version ?? 0}`,
          { reason: 'no_drift', configVersion: view.config?.version ?? 0 },
        );
      return launch(
        ctx,
        appName,
        envName,
        {
          kind: 'deploy',
          version: view.live.version,
          strategy: body.strategy ?? 'rolling',
          options: body.options ?? {},
          reason: body.reason ?? null,
          auditAction: 'config.rollout',
          auditExtra: { configVersion: view.config.version, driftedInstances: view.config.driftedInstances },
        },
        { override: body.overrideFreeze },
      );
    },
    /** POST /deployments/:id/(pause|resume|abort|advance|approve) */
    async control(ctx: RequestContext, id: string, action: DeploymentActionName, reason: string | null) {
      const d = await requireDeployment(id);
      if (action === 'approve') {
        assertCanApprove(ctx, {
          actor: d.actor,
          actorUserId: d.actorUserId,
          environmentProtected: d.environment.protected,
          application: d.application.name,
        });
      } else {
        requirePermission(ctx, 'deployment.control', {
          application: d.application.name,
          environment: { name: d.environment.name, protected: d.environment.protected },
        });
      }
      return act(ctx, id, action, reason, {
        action: `deployment.${action}`,
        target: `${d.application.name}/${d.environment.name}`,
      });
    },
    scaleIn,
    /**
     * POST /deployments/:id/redeploy — a new deployment of the same release to the same
     * environment with the same strategy, options and configuration version. The rules of a
     * deploy apply (permission, one active deployment, promotion order, freeze windows).
     */
    async redeploy(
      ctx: RequestContext,
      id: string,
      body: {
        reason?: string | undefined;
        overrideFreeze?: boolean | undefined;
        override?: boolean | undefined;
      },
    ) {
      const d = await reads.findForRedeploy(id);
      if (!d) throw AppError.notFound(`deployment ${id}`, { field: 'params.id' });
      requirePermission(ctx, 'deploy', {
        application: d.application.name,
        environment: { name: d.environment.name, protected: d.environment.protected },
      });
      return launch(
        ctx,
        d.application.name,
        d.environment.name,
        {
          kind: 'deploy',
          version: d.release.version,
          strategy: strategyToWire(d.strategy),
          options: d.options,
          reason: body.reason ?? null,
          overridePromotionOrder: body.override,
          configVersionId: d.configVersionId,
          auditAction: 'deployment.redeploy',
          auditExtra: { redeployOf: d.id, configVersion: d.configVersion?.version ?? null },
        },
        { override: body.overrideFreeze },
      );
    },
  };
}
export type DeploymentCommandService = ReturnType<typeof createDeploymentCommandService>;

/** Thrown inside a resource change's transaction to roll back a deployment that would change nothing. */
class Unchanged extends Error {}
