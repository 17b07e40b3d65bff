export * from './agent-protocol.ts';
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
} from './cgroups.ts';
export { HaproxyAdmin, HaproxyAdminError, parseShowStat, type StatRow } from './haproxy/admin-socket.ts';
export { adminSocketOf as haproxyAdminSocketOf } from './haproxy/config.ts';
export { HAPROXY_BIN, HaproxyProvider, type HaproxyProviderOptions } from './haproxy/haproxy-provider.ts';
export { checkHealth, instanceTarget, instanceUrl, probeHttp, waitHealthy } from './health.ts';
export {
  isJobProcess,
  type JobOutcome,
  type JobResult,
  type JobSpec,
  killJobGroup,
  type RunningJob,
  startJob,
} from './job.ts';
export {
  type CanaryMode,
  type ClusterRouting,
  type KubernetesCredentials,
  KubernetesDriver,
  type KubernetesDriverOptions,
  kubeConfigFrom,
} from './kubernetes/kubernetes-driver.ts';
export {
  deploymentFor,
  httpRouteFor,
  KubernetesObjectError,
  LABELS as KUBERNETES_LABELS,
  namesFor as kubernetesNamesFor,
  type PodTemplate,
  serviceFor,
} from './kubernetes/objects.ts';
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
} from './launcher.ts';
export { canonicalConfig, LocalDriver, type LocalDriverOptions } from './local-driver.ts';
export { followLog, type LogFollower } from './log-follow.ts';
export { commandLineOf, freePort, isAlive, signal, tailFile, tsxLoader, waitForExit } from './proc.ts';
export { collectProcessMetrics } from './process-metrics.ts';
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
  routerProcessesIn,
  type StartRouterOptions,
  startRouter,
  stopRouter,
} from './router/process.ts';
export { createTrafficRouter, type TrafficRouter, type TrafficRouterOptions } from './router/router.ts';
export type { PoolWindowStats } from './router/stats.ts';
export type { SupervisorSpec, SupervisorStatus } from './supervisor.ts';
export {
  KUBERNETES_NO_COUNTS,
  KubernetesTrafficProvider,
  type KubernetesTrafficProviderOptions,
} from './traffic/kubernetes-provider.ts';
export {
  NodeRouterProvider,
  type NodeRouterProviderOptions,
  parseRouterPoolTotals,
} from './traffic/node-router-provider.ts';
export type * from './traffic/provider.ts';
export {
  TotalsWindow,
  type TotalsWindowResult,
  toPoolWindowStats,
} from './traffic/totals-window.ts';
export type * from './types.ts';
