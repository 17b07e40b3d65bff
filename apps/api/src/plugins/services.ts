import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createSecretBox, loadSecretKey } from '../lib/secret-box.ts';
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
import { createFreezeService, type FreezeService } from '../services/freeze-service.ts';
import { createIdempotencyService, type IdempotencyService } from '../services/idempotency-service.ts';
import { createPromotionService, type PromotionService } from '../services/promotion-service.ts';
import { createReleaseService, type ReleaseService } from '../services/release-service.ts';
import { createRollbackService, type RollbackService } from '../services/rollback-service.ts';
import { createTokenService, type TokenService } from '../services/token-service.ts';
import { createTrafficService, type TrafficService } from '../services/traffic-service.ts';
import { createUserService, type UserService } from '../services/user-service.ts';
import { createViewCache, type ViewCache } from '../services/view-cache.ts';

export interface Services {
  catalog: CatalogService;
  applicationAdmin: ApplicationAdminService;
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
  /** The pipeline views' cache; app.ts wires its invalidation to the event bus. */
  views: ViewCache;
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
  async (app: FastifyInstance, opts: { auth?: Partial<AuthOptions> | undefined; secrets: SecretOptions }) => {
    const { repos, db } = app;
    const views = createViewCache({ db });
    const catalog = createCatalogService({
      applications: repos.applications,
      environments: repos.environments,
      views,
    });
    const freeze = createFreezeService({ db, catalog });
    // The orchestrator registers after the services (boot order); it is looked up at call time.
    const orchestrator = () => app.orchestrator;
    const deploymentCommands = createDeploymentCommandService({ db, catalog, freeze, orchestrator });
    app.decorate('services', {
      views,
      catalog,
      applicationAdmin: createApplicationAdminService({ db, catalog, environments: repos.environments }),
      releases: createReleaseService({ db, releases: repos.releases, catalog }),
      deploymentQueries: createDeploymentQueryService({
        deployments: repos.deployments,
        applications: repos.applications,
        environments: repos.environments,
      }),
      auth: createAuthService({ db, options: opts.auth }),
      users: createUserService({ db }),
      tokens: createTokenService({ db }),
      audit: createAuditService({ db }),
      freeze,
      deploymentCommands,
      promotion: createPromotionService({ db, catalog, commands: deploymentCommands }),
      traffic: createTrafficService({ db, catalog, commands: deploymentCommands, orchestrator }),
      rollback: createRollbackService({ db, catalog, commands: deploymentCommands }),
      idempotency: createIdempotencyService({ db }),
      config: createConfigService({
        db,
        catalog,
        secrets: createSecretBox(
          opts.secrets.key ?? (() => loadSecretKey({ dataDir: opts.secrets.dataDir })),
        ),
      }),
    });
  },
  { name: 'services', dependencies: ['database'] },
);
