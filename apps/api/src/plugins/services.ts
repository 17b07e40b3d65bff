import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OrchestratorPort } from '../lib/orchestrator-port.ts';
import { createSecretBox, loadSecretKey, type SecretBox } from '../lib/secret-box.ts';
import {
  type AnalysisProviderService,
  createAnalysisProviderService,
} from '../services/analysis-provider-service.ts';
import {
  type ApplicationAdminService,
  createApplicationAdminService,
} from '../services/application-admin-service.ts';
import { type AuditService, createAuditService } from '../services/audit-service.ts';
import { type AuthOptions, type AuthService, createAuthService } from '../services/auth-service.ts';
import { type CatalogService, createCatalogService } from '../services/catalog-service.ts';
import { type ConfigService, createConfigService } from '../services/config-service.ts';
import {
  createDeploymentCommandService,
  type DeploymentCommandService,
} from '../services/deployment-command-service.ts';
import { createDeploymentQueryService, type DeploymentQueryService } from '../services/deployment-service.ts';
import { createEffectiveConfig, type EffectiveConfigService } from '../services/effective-config.ts';
import { createFreezeService, type FreezeService } from '../services/freeze-service.ts';
import { createHookService, type HookService } from '../services/hook-service.ts';
import { createHostService, type HostService } from '../services/host-service.ts';
import { createIdempotencyService, type IdempotencyService } from '../services/idempotency-service.ts';
import { createMonitoringService, type MonitoringService } from '../services/monitoring-service.ts';
import { createParityService, type ParityService } from '../services/parity-service.ts';
import { createPromotionService, type PromotionService } from '../services/promotion-service.ts';
import { createReleaseService, type ReleaseService } from '../services/release-service.ts';
import { createRollbackService, type RollbackService } from '../services/rollback-service.ts';
import { createRuntimeTargetService, type RuntimeTargetService } from '../services/runtime-target-service.ts';
import { createScalingService, type ScalingService } from '../services/scaling-service.ts';
import { createSyntheticLoadService, type SyntheticLoadService } from '../services/synthetic-load-service.ts';
import { createTokenService, type TokenService } from '../services/token-service.ts';
import { createTrafficService, type TrafficService } from '../services/traffic-service.ts';
import { createUserService, type UserService } from '../services/user-service.ts';
import { createViewCache, type ViewCache } from '../services/view-cache.ts';

export interface Services {
  catalog: CatalogService;
  applicationAdmin: ApplicationAdminService;
  runtimeTargets: RuntimeTargetService;
  releases: ReleaseService;
  deploymentQueries: DeploymentQueryService;
  auth: AuthService;
  users: UserService;
  tokens: TokenService;
  audit: AuditService;
  freeze: FreezeService;
  deploymentCommands: DeploymentCommandService;
  promotion: PromotionService;
  traffic: TrafficService;
  rollback: RollbackService;
  idempotency: IdempotencyService;
  config: ConfigService;
  syntheticLoad: SyntheticLoadService;
  monitoring: MonitoringService;
  scaling: ScalingService;
  /** Decrypted configuration and its hash, for the orchestrator (instances, hooks) and drift. */
  effectiveConfig: EffectiveConfigService;
  hooks: HookService;
  /** Where a canary's analysis reads its figures (router window or Prometheus). */
  analysisProvider: AnalysisProviderService;
  hosts: HostService;
  parity: ParityService;
  /** The pipeline views' cache; app.ts wires its invalidation to the event bus. */
  views: ViewCache;
  /** Secrets at rest (configuration values, webhook signing secrets). */
  secrets: SecretBox;
}

export interface SecretOptions {
  /** 32-byte key for configuration secrets; default: QUBOT_SECRET_KEY, else `<dataDir>/secret.key`. */
  key?: Buffer | undefined;
  dataDir: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export default fp(
  async (
    app: FastifyInstance,
    opts: {
      auth?: Partial<AuthOptions> | undefined;
      secrets: SecretOptions;
      viewCache?: boolean | { maxAgeMs?: number; localWriteMs?: number } | undefined;
    },
  ) => {
    const { repos, db } = app;
    const { transact } = repos;
    const secrets = createSecretBox(
      opts.secrets.key ?? (() => loadSecretKey({ dataDir: opts.secrets.dataDir })),
    );
    // The services know the orchestrator only through its port (lib/orchestrator-port.ts). The
    // orchestrator plugin registers after this one (its worker starts once the event bus is up), so
    // each call looks the port up when it is made.
    const port = () => app.orchestrator.port;
    const orchestrator: OrchestratorPort = {
      wake: (id) => port().wake(id),
      applyIn: (tx, id, event, options) => port().applyIn(tx, id, event, options),
      announce: (tx, id, environmentId, created) => port().announce(tx, id, environmentId, created),
      ensureRouter: (environmentId) => port().ensureRouter(environmentId),
      syncRouting: (environmentId) => port().syncRouting(environmentId),
      handoverRouter: (environmentId) => port().handoverRouter(environmentId),
      runtimeInfo: () => port().runtimeInfo(),
    };
    const views = createViewCache({
      db,
      enabled: opts.viewCache !== false,
      ...(typeof opts.viewCache === 'object' ? opts.viewCache : {}),
    });
    const catalog = createCatalogService({
      applications: repos.applications,
      environments: repos.environments,
      views,
    });
    const freeze = createFreezeService({
      transact,
      windows: repos.freezes,
      environments: repos.environments,
      catalog,
    });
    const deploymentCommands = createDeploymentCommandService({
      transact,
      deployments: repos.deployments,
      deploymentWrites: repos.deploymentWrites,
      environments: repos.environments,
      instances: repos.instances,
      releases: repos.releases,
      configs: repos.configs,
      catalog,
      freeze,
      orchestrator,
    });
    const config = createConfigService({
      transact,
      configs: repos.configs,
      environments: repos.environments,
      releases: repos.releases,
      deployments: repos.deployments,
      catalog,
      secrets,
    });
    app.decorate('services', {
      views,
      secrets,
      catalog,
      applicationAdmin: createApplicationAdminService({
        transact,
        applications: repos.applications,
        environments: repos.environments,
        deploymentWrites: repos.deploymentWrites,
        deploymentCommands,
        orchestrator,
        catalog,
      }),
      runtimeTargets: createRuntimeTargetService({
        transact,
        catalog,
        applications: repos.applications,
        environments: repos.environments,
        deploymentWrites: repos.deploymentWrites,
      }),
      scaling: createScalingService({
        transact,
        environments: repos.environments,
        scaling: repos.scaling,
        catalog,
        deploymentCommands,
        orchestrator,
      }),
      releases: createReleaseService({ transact, releases: repos.releases, catalog, views }),
      deploymentQueries: createDeploymentQueryService({
        deployments: repos.deployments,
        applications: repos.applications,
        environments: repos.environments,
        views,
      }),
      auth: createAuthService({
        transact,
        users: repos.users,
        sessions: repos.sessions,
        tokens: repos.tokens,
        throttles: repos.loginThrottles,
        options: opts.auth,
      }),
      users: createUserService({
        transact,
        users: repos.users,
        sessions: repos.sessions,
        throttles: repos.loginThrottles,
      }),
      tokens: createTokenService({ transact, tokens: repos.tokens, applications: repos.applications }),
      audit: createAuditService({ entries: repos.audit }),
      freeze,
      deploymentCommands,
      promotion: createPromotionService({
        environments: repos.environments,
        catalog,
        commands: deploymentCommands,
      }),
      traffic: createTrafficService({
        transact,
        environments: repos.environments,
        deploymentWrites: repos.deploymentWrites,
        releases: repos.releases,
        catalog,
        commands: deploymentCommands,
        orchestrator,
      }),
      rollback: createRollbackService({
        deployments: repos.deploymentWrites,
        releases: repos.releases,
        catalog,
        commands: deploymentCommands,
      }),
      idempotency: createIdempotencyService({ keys: repos.idempotency }),
      config,
      parity: createParityService({ catalog, environments: repos.environments, config }),
      effectiveConfig: createEffectiveConfig({ configs: repos.configs, secrets }),
      hooks: createHookService({
        transact,
        catalog,
        environments: repos.environments,
        applications: repos.applications,
        deployments: repos.deployments,
        hooks: repos.hooks,
      }),
      analysisProvider: createAnalysisProviderService({
        transact,
        catalog,
        environments: repos.environments,
      }),
      hosts: createHostService({
        transact,
        hosts: repos.hosts,
        environments: repos.environments,
        deploymentCommands,
        orchestrator,
      }),
      syntheticLoad: createSyntheticLoadService({ transact, catalog, environments: repos.environments }),
      monitoring: createMonitoringService({ metrics: repos.metrics, catalog }),
    });
  },
  { name: 'services', dependencies: ['database'] },
);
