export * from './audit';
export * from './auth';
export * from './common';
export * from './config';
export * from './deployments-write';
export * from './events';
export * from './resources';
