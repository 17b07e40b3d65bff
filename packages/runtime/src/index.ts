export {
  applyLimits,
  type CgroupLimits,
  type CgroupPlacement,
  type CgroupSupport,
  cgroupWrap,
  detectCgroups,
  placementFor,
  readCpu,
  readMemory,
  removeGroup,
} from './cgroups';
export { HaproxyAdmin, HaproxyAdminError, parseShowStat, type StatRow } from './haproxy/admin-socket';
export { adminSocketOf as haproxyAdminSocketOf } from './haproxy/config';
export { HAPROXY_BIN, HaproxyProvider, type HaproxyProviderOptions } from './haproxy/haproxy-provider';
export { checkHealth, instanceTarget, instanceUrl, probeHttp, waitHealthy } from './health';
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
export {
  NodeRouterProvider,
  type NodeRouterProviderOptions,
  parseRouterPoolTotals,
} from './traffic/node-router-provider';
export type * from './traffic/provider';
export {
  TotalsWindow,
  type TotalsWindowResult,
  toPoolWindowStats,
} from './traffic/totals-window';
export type * from './types';
