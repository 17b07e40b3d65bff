// Delivers queued webhook deliveries (docs/webhooks.md "Delivery"): claims due rows with FOR UPDATE
// SKIP LOCKED (any number of worker processes, each row to one of them), sends each with a timeout,
// records status, latency and the answer's first characters, and retries failures with
// exponential back-off. Nothing here runs on a deployment's path: the orchestrator only appends
// events, and the trigger on `events` queues the deliveries in the same transaction.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { WebhookRepo } from '@qubot/db';
import type { SecretBox } from '../lib/secret-box.ts';
import { deliveryView } from '../services/webhook-service.ts';
import { assertPublicHost, BlockedAddressError, guardedLookup } from './url-guard.ts';
import {
  buildBody,
  DELIVERY_HEADER,
  EVENT_HEADER,
  renderBody,
  SIGNATURE_HEADER,
  type StoredEvent,
  sign,
} from './webhook-payload.ts';

export interface WebhookDeliveryOptions {
  /** An attempt that has no complete answer after this long fails (QUBOT_WEBHOOK_TIMEOUT_SECONDS, default 10 s). */
  timeoutMs: number;
  /** Attempts before a delivery is failed for good (QUBOT_WEBHOOK_MAX_ATTEMPTS, default 8). */
  maxAttempts: number;
  /** First retry after this long, doubling each time (default 10 s), at most `maxBackoffMs` (1 h). */
  backoffMs: number;
  maxBackoffMs: number;
  /** How often a worker looks for due deliveries when nothing wakes it (default 1 s). */
  pollMs: number;
  /** Deliveries in flight per worker at most (default 8). */
  concurrency: number;
  /** Base URL of the dashboard for the links in bodies (QUBOT_PUBLIC_URL). */
  publicUrl: string | (() => string);
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookDeliveryOptions = {
  timeoutMs: 10_000,
  maxAttempts: 8,
  backoffMs: 10_000,
  maxBackoffMs: 3600_000,
  pollMs: 1000,
  concurrency: 8,
  publicUrl: 'http://127.0.0.1:8080',
};

/** The lease a claim takes: past it, another worker takes the delivery over (this one died). */
export const leaseMs = (o: Pick<WebhookDeliveryOptions, 'timeoutMs'>) => o.timeoutMs + 5000;

/** Delay before attempt `attempts + 1`: backoff · 2^(attempts − 1), capped, ±20 % jitter. */
export function backoff(attempts: number, o: Pick<WebhookDeliveryOptions, 'backoffMs' | 'maxBackoffMs'>) {
  const base = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const EXCERPT_CHARS = 500;
const READ_LIMIT = 8 * 1024;

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseExcerpt: string | null;
  error: string | null;
  /** Not worth retrying (the address is refused). */
  permanent: boolean;
}

/** One HTTP POST with a hard timeout on the whole exchange; never throws. */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Omit<AttemptOutcome, 'latencyMs'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...o, latencyMs: elapsed() });
    };
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(opts.allowPrivate) as never,
      agent: false,
    });
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          statusCode: null,
          responseExcerpt: null,
          error: `timed out after ${opts.timeoutMs} ms`,
          permanent: false,
        }),
      opts.timeoutMs,
    );
    req.on('error', (err) =>
      finish({
        ok: false,
        statusCode: null,
        responseExcerpt: null,
        error: err.message,
        permanent: err instanceof BlockedAddressError,
      }),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS);
        finish({
          ok: status >= 200 && status < 300,
          statusCode: status,
          responseExcerpt: text,
          error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
          permanent: false,
        });
      };
      res.on('data', (c: Buffer) => {
        if (size < READ_LIMIT) chunks.push(c);
        size += c.length;
        if (size >= READ_LIMIT) settle();
      });
      res.on('end', settle);
      res.on('error', settle);
    });
    req.end(body);
  });
}

export function createWebhookWorker(deps: {
  repo: Pick<WebhookRepo, 'claim' | 'finish' | 'findById' | 'event' | 'settings'>;
  applicationName: (applicationId: string) => Promise<string>;
  secrets: SecretBox;
  options: WebhookDeliveryOptions;
  onError: (err: unknown) => void;
  /** Told after each attempt (tests, logs). */
  onAttempt?: (a: { deliveryId: string; ok: boolean; status: string }) => void;
}) {
  const o = deps.options;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;
  const publicUrl = () => (typeof o.publicUrl === 'function' ? o.publicUrl() : o.publicUrl);

  async function deliverOne(d: Awaited<ReturnType<typeof deps.repo.claim>>[number]): Promise<void> {
    const hook = await deps.repo.findById(d.webhookId);
    const event = hook ? await deps.repo.event(d.eventSeq) : null;
    // Each attempt's outcome is published as a `webhook.delivery` event on the application's
    // topic, stored with the outcome: the dashboard's delivery log follows it without polling.
    const announce = hook
      ? async () => {
          const application = await deps.applicationName(hook.applicationId);
          return (row: Parameters<typeof deliveryView>[0]) => ({
            type: 'webhook.delivery',
            applicationId: hook.applicationId,
            payload: { ...deliveryView(row), application },
          });
        }
      : async () => undefined;
    if (!hook || !event || !hook.enabled) {
      await deps.repo.finish(
        d.id,
        id,
        {
          status: 'failed',
          statusCode: null,
          latencyMs: null,
          responseExcerpt: null,
          error: !hook ? 'webhook deleted' : !event ? 'event no longer stored' : 'webhook disabled',
        },
        await announce(),
      );
      return;
    }
    const settings = await deps.repo.settings();
    const body = renderBody(
      hook.format,
      buildBody({
        deliveryId: d.id,
        eventType: d.eventType,
        event: event as StoredEvent,
        application: await deps.applicationName(hook.applicationId),
        webhook: { id: hook.id, name: hook.name },
        publicUrl: publicUrl(),
      }),
    );
    const secret = deps.secrets.decrypt(hook.secret, `webhook:${hook.id}`);
    let outcome: AttemptOutcome;
    try {
      // An IP literal never goes through `lookup`: check it here.
      if (!settings.allowPrivateTargets) await assertPublicHost(new URL(hook.url).hostname);
      outcome = await post(
        hook.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'QubotDeploy-Webhooks/1',
          [SIGNATURE_HEADER]: signNow(secret, body),
          [EVENT_HEADER]: d.eventType,
          [DELIVERY_HEADER]: d.id,
        },
        { timeoutMs: o.timeoutMs, allowPrivate: settings.allowPrivateTargets },
      );
    } catch (err) {
      outcome = {
        ok: false,
        statusCode: null,
        latencyMs: 0,
        responseExcerpt: null,
        error: err instanceof Error ? err.message : String(err),
        permanent: err instanceof BlockedAddressError,
      };
    }
    const last = outcome.permanent || d.attempts >= o.maxAttempts;
    const status = outcome.ok ? 'delivered' : last ? 'failed' : 'pending';
    await deps.repo.finish(
      d.id,
      id,
      {
        status,
        ...(status === 'pending' ? { nextAttemptAt: new Date(Date.now() + backoff(d.attempts, o)) } : {}),
        statusCode: outcome.statusCode,
        latencyMs: outcome.latencyMs,
        responseExcerpt: outcome.responseExcerpt,
        // A take-over stays on record: the endpoint may have seen the cut-off attempt too.
        error:
          outcome.ok && d.takenOver
            ? `delivered on attempt ${d.attempts}; an earlier attempt was cut off when its worker stopped`
            : outcome.error,
      },
      await announce(),
    );
    deps.onAttempt?.({ deliveryId: d.id, ok: outcome.ok, status });
  }

  // Attempts in flight: a slow endpoint holds one slot until its timeout, never the whole worker
  // (each finished attempt frees its slot and claims the next due delivery at once).
  const inFlight = new Set<Promise<void>>();

  async function round(): Promise<void> {
    do {
      again = false;
      const free = o.concurrency - inFlight.size;
      if (free <= 0) return;
      const claimed = await deps.repo.claim(id, free, leaseMs(o));
      for (const d of claimed) {
        const p: Promise<void> = deliverOne(d)
          .catch(deps.onError)
          .finally(() => {
            inFlight.delete(p);
            wake();
          });
        inFlight.add(p);
      }
      if (claimed.length === free) again = true;
    } while (again && !stopped);
  }

  function schedule(ms: number) {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(wake, ms);
    timer.unref();
  }

  /** Look for due deliveries now (a new event was stored, a redelivery was asked for). */
  function wake(): void {
    if (stopped) return;
    if (running !== null) {
      again = true;
      return;
    }
    running = round()
      .catch(deps.onError)
      .finally(() => {
        running = null;
        schedule(o.pollMs);
      });
  }

  return {
    id,
    start() {
      stopped = false;
      wake();
    },
    wake,
    /** Stops claiming; in-flight attempts finish (each within the timeout). */
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await Promise.all(inFlight);
    },
  };
}
export type WebhookWorker = ReturnType<typeof createWebhookWorker>;

const signNow = (secret: string, body: string) => sign(secret, body, Math.floor(Date.now() / 1000));
