export { checkHealth, probeHttp, waitHealthy } from './health.ts';
export {
  LAUNCHER_PLACEHOLDERS,
  LauncherError,
  type LauncherPlaceholder,
  type LauncherValues,
  parseLauncher,
  renderLauncher,
  splitCommandLine,
  validateArtifactRef,
  validateLabel,
} from './launcher.ts';
export { LocalDriver, type LocalDriverOptions } from './local-driver.ts';
export { freePort, isAlive, tailFile, tsxLoader } from './proc.ts';
export { RouterClient, RouterClientError, type RouterClientOptions } from './router/client.ts';
export {
  ConfigValidationError,
  type PoolConfig,
  parseTarget,
  type RouterConfig,
  type RouterConfigState,
  validateRouterConfig,
} from './router/config.ts';
export {
  type AdoptRouterOptions,
  adoptRouter,
  isRouterProcess,
  type RouterProcess,
  type StartRouterOptions,
  startRouter,
  stopRouter,
} from './router/process.ts';
export { createTrafficRouter, type TrafficRouter, type TrafficRouterOptions } from './router/router.ts';
export type { PoolWindowStats } from './router/stats.ts';
export type { SupervisorSpec, SupervisorStatus } from './supervisor.ts';
export type * from './types.ts';
