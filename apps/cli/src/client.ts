import { randomUUID } from 'node:crypto';
import { createApi, createHttpClient } from '@qubot/client';
import type { Credential } from './config.ts';

export interface ClientOptions {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080. */
  server: string;
  credential: Credential | null;
  /** Sent on every POST of this invocation, so a retried request is applied once. */
  idempotencyKey: string;
  /** Extra attempts after a network error or a 502/503/504 (default 2). */
  retries?: number;
  /** Per-attempt timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/**
 * @qubot/client's typed calls as the CLI uses them (retries, a timeout, and a request id per
 * attempt): `call('GET /api/v1/deployments/:id', { params: { id } })` for the answer,
 * `respond(…)` when the status matters too.
 */
export function createClient(opts: ClientOptions) {
  const http = createHttpClient({
    baseUrl: opts.server,
    credential: opts.credential,
    idempotencyKey: opts.idempotencyKey,
    retries: opts.retries ?? 2,
    timeoutMs: opts.timeoutMs ?? 30_000,
    headers: { 'user-agent': 'qubot-cli' },
    requestId: () => `cli-${randomUUID()}`,
  });
  return { server: opts.server, credential: opts.credential, ...createApi(http) };
}
export type Client = ReturnType<typeof createClient>;
