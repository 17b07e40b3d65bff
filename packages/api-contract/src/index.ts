export * from './auth';
export * from './audit';
export * from './common';
export * from './events';
export * from './resources';
export * from './deployments-write';
