import type { Deployment } from '@qubot/api-contract';
import {
  ApiError,
  authHeaders,
  createEventStream,
  eventsUrl,
  isCredentialClose,
  type NodeWebSocketClass,
  nodeConnector,
} from '@qubot/client';
import WebSocket from 'ws';
import type { Credential } from './config.ts';
import { CliError, ExitCode, isTerminal } from './exit-utils.ts';
import { deploymentOf } from './watch-utils.ts';

export interface StreamOptions {
  server: string;
  credential: Credential | null;
  topics: string[];
  /** Handle one event; return true when the watch is over. */
  onEvent(event: string, data: unknown, seq: number): boolean | Promise<boolean>;
  /**
   * Read the current state over REST; return true when the watch is over. Called once the first
   * subscription is in place (so nothing between the read and the stream is missed), and before
   * every reconnect, which also keeps the watch going by polling when the stream is unavailable.
   */
  resync(): Promise<boolean>;
  /** Give up after this long (ms); undefined waits for ever. */
  timeoutMs?: number | undefined;
  onTimeout?: () => CliError;
  /** A dead peer is assumed after this much silence (ms). */
  silenceMs?: number;
  /** Print a note (reconnects, fallbacks) for people. */
  note?: (line: string) => void;
}

/**
 * Follows the event stream (@qubot/client's, with `ws`) until `onEvent`/`resync` says done.
 * Reconnects with `since` so a network blip loses nothing; reads the state over REST before each
 * reconnect, so the watch keeps going by polling while the stream cannot be reached.
 */
export function watchStream(opts: StreamOptions): Promise<void> {
  const silenceMs = opts.silenceMs ?? 45_000;
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    let synced = false;
    let downSince: number | null = null;

    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      stream.stop();
      if (overall) clearTimeout(overall);
      process.off('SIGINT', onSigint);
      if (err) reject(err);
      else resolve();
    };
    const onSigint = () => finish(new CliError('interrupted', ExitCode.Interrupted));

    // Handlers run one at a time, in arrival order: the first REST read completes before the
    // events that follow the subscription are applied on top of it.
    let chain: Promise<void> = Promise.resolve();
    const guard = (fn: () => Promise<boolean> | boolean) => {
      chain = chain
        .then(async () => {
          if (finished) return;
          if (await fn()) finish();
        })
        .catch(finish);
    };

    const stream = createEventStream({
      url: eventsUrl(opts.server),
      connect: nodeConnector(WebSocket as unknown as NodeWebSocketClass, {
        headers: authHeaders(opts.credential, 'GET'),
      }),
      backoff: { baseMs: 500, maxMs: 10_000 },
      pingMs: silenceMs / 3,
      deadAfterMs: silenceMs,
      onSubscribed: () => {
        if (synced) return;
        synced = true;
        guard(() => opts.resync());
      },
      // The stream restarted from scratch (e.g. restored database): read the state again.
      onReset: () => {
        synced = false;
      },
      // An event type this CLI does not know (a newer server) changes nothing it follows.
      onEvent: (e) => {
        const name = e.event;
        if (name !== null) guard(() => opts.onEvent(name, e.data, e.seq));
      },
      onServerError: (e) => {
        const code =
          e.code === 'forbidden'
            ? ExitCode.Auth
            : e.code === 'unknown_topic'
              ? ExitCode.NotFound
              : ExitCode.Error;
        finish(new CliError(`event stream: ${e.message}`, code));
        return 'stop';
      },
      onClose: ({ code, reason }) => {
        if (!isCredentialClose(code)) return undefined;
        finish(
          new CliError(
            reason.startsWith('HTTP ')
              ? `event stream refused the credentials (${reason.replace(' on upgrade', '')}); run qubot login`
              : `event stream: ${reason || 'not authenticated'}; run qubot login`,
            ExitCode.Auth,
          ),
        );
        return 'stop';
      },
      beforeReconnect: async ({ attempt, reason }) => {
        if (attempt === 0) opts.note?.(`event stream lost (${reason}); reconnecting`);
        downSince ??= Date.now();
        try {
          const done = await opts.resync();
          downSince = null;
          if (done) finish();
          return done;
        } catch (err) {
          // Unreachable for a while is worth waiting out; anything else ends the watch.
          if (err instanceof ApiError && err.status === 0 && Date.now() - (downSince ?? Date.now()) < 120_000)
            return false;
          finish(err);
          return true;
        }
      },
    });
    process.on('SIGINT', onSigint);
    const overall =
      opts.timeoutMs !== undefined
        ? setTimeout(() => finish(opts.onTimeout?.() ?? new CliError('timed out')), opts.timeoutMs)
        : null;
    stream.addTopics(opts.topics);
    stream.start();
  });
}

export interface FollowOptions {
  server: string;
  credential: Credential | null;
  deploymentId: string;
  fetchDeployment(): Promise<Deployment>;
  onUpdate(prev: Deployment | null, next: Deployment): void;
  timeoutMs?: number | undefined;
  note?: (line: string) => void;
}

/** Follows one deployment until it reaches a terminal status, and returns it. */
export async function followDeployment(opts: FollowOptions): Promise<Deployment> {
  let current: Deployment | null = null;
  const apply = (next: Deployment): boolean => {
    if (next.id !== opts.deploymentId) return false;
    opts.onUpdate(current, next);
    current = next;
    return isTerminal(next.status);
  };
  await watchStream({
    server: opts.server,
    credential: opts.credential,
    topics: [`deployment:${opts.deploymentId}`],
    onEvent: (event, data) => {
      const d = deploymentOf(event, data);
      return d ? apply(d) : false;
    },
    resync: async () => apply(await opts.fetchDeployment()),
    timeoutMs: opts.timeoutMs,
    onTimeout: () =>
      new CliError(
        `timed out waiting for deployment ${opts.deploymentId}${current ? ` (still ${current.status})` : ''}`,
        ExitCode.Error,
      ),
    ...(opts.note ? { note: opts.note } : {}),
  });
  if (!current) throw new CliError('stopped before the deployment could be read');
  return current;
}
