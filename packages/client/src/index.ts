export * from './errors.ts';
export * from './http.ts';
export * from './roles.ts';
export * from './routes.ts';
export * from './stream.ts';
export * from './stream-messages.ts';
