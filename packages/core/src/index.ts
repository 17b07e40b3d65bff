export * from './autoscale.ts';
export * from './backoff.ts';
export * from './decisions.ts';
export {
  allowedActions,
  type DeploymentState,
  type InFlight,
  InvalidOptionsError,
  initialState,
  isFinished,
  normalizeInput,
  type Phase,
  type TransitionResult,
  transition,
} from './machine.ts';
export * from './options.ts';
export {
  type Batch,
  type DeploymentInput,
  type NormalizedInput,
  type Op,
  planBatches,
  type ScaleDrain,
} from './program.ts';
export * from './types.ts';
