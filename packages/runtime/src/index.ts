export { checkHealth, probeHttp, waitHealthy } from './health';
export {
  isJobProcess,
  type JobOutcome,
  type JobResult,
  type JobSpec,
  killJobGroup,
  type RunningJob,
  startJob,
} from './job';
export {
  JOB_LAUNCHER_PLACEHOLDERS,
  type JobLauncherValues,
  LAUNCHER_PLACEHOLDERS,
  LauncherError,
  type LauncherPlaceholder,
  type LauncherValues,
  parseLauncher,
  renderJobLauncher,
  renderLauncher,
  splitCommandLine,
  validateArtifactRef,
  validateLabel,
} from './launcher';
export { canonicalConfig, LocalDriver, type LocalDriverOptions } from './local-driver';
export { freePort, isAlive, tailFile, tsxLoader } from './proc';
export { RouterClient, RouterClientError, type RouterClientOptions } from './router/client';
export {
  ConfigValidationError,
  type PoolConfig,
  parseTarget,
  type RouterConfig,
  type RouterConfigState,
  validateRouterConfig,
} from './router/config';
export {
  type AdoptRouterOptions,
  adoptRouter,
  isRouterProcess,
  type RouterProcess,
  type StartRouterOptions,
  startRouter,
  stopRouter,
} from './router/process';
export { createTrafficRouter, type TrafficRouter, type TrafficRouterOptions } from './router/router';
export type { PoolWindowStats } from './router/stats';
export type { SupervisorSpec, SupervisorStatus } from './supervisor';
export type * from './types';
