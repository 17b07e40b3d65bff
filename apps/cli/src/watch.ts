import type { Deployment } from '@qubot/api-contract';
import WebSocket from 'ws';
import { authHeaders } from './client.ts';
import type { Credential } from './config.ts';
import { CliError, ExitCode, isTerminal, NetworkError } from './exit-utils.ts';
import { backoff, deploymentOf, eventsUrl, parseServerMessage } from './watch-utils.ts';

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

/** Close code the server uses for a missing or invalid credential on the upgrade (docs/events.md). */
const CLOSE_UNAUTHENTICATED = 4401;

/**
 * Follows the event stream until `onEvent`/`resync` says done. Reconnects with `since` so a
 * network blip loses nothing; falls back to REST polling while the stream cannot be reached.
 */
export function watchStream(opts: StreamOptions): Promise<void> {
  const silenceMs = opts.silenceMs ?? 45_000;
  return new Promise<void>((resolve, reject) => {
    let lastSeq: number | undefined;
    let attempt = 0;
    let finished = false;
    let socket: WebSocket | null = null;
    let timers: NodeJS.Timeout[] = [];
    let ping: NodeJS.Timeout | null = null;
    let silence: NodeJS.Timeout | null = null;
    let synced = false;
    let downSince: number | null = null;

    const clear = () => {
      for (const t of timers) clearTimeout(t);
      timers = [];
      if (ping) clearInterval(ping);
      if (silence) clearTimeout(silence);
      ping = null;
      silence = null;
    };
    const finish = (err?: unknown) => {
      if (finished) return;
      finished = true;
      clear();
      if (overall) clearTimeout(overall);
      process.off('SIGINT', onSigint);
      socket?.removeAllListeners();
      socket?.on('error', () => {});
      socket?.terminate();
      if (err) reject(err);
      else resolve();
    };
    const onSigint = () => finish(new CliError('interrupted', ExitCode.Interrupted));
    process.on('SIGINT', onSigint);
    const overall =
      opts.timeoutMs !== undefined
        ? setTimeout(() => finish(opts.onTimeout?.() ?? new CliError('timed out')), opts.timeoutMs)
        : null;

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

    const scheduleReconnect = (why: string) => {
      if (finished) return;
      clear();
      socket?.removeAllListeners();
      socket?.on('error', () => {});
      socket?.terminate();
      socket = null;
      downSince ??= Date.now();
      const delay = backoff(attempt++);
      if (attempt === 1) opts.note?.(`event stream lost (${why}); reconnecting`);
      timers.push(
        setTimeout(() => {
          // Polling keeps the watch honest while the stream is down (or not deployed yet).
          opts
            .resync()
            .then((done) => {
              if (done) return finish();
              downSince = null;
              connect();
            })
            .catch((err: unknown) => {
              if (err instanceof NetworkError && Date.now() - (downSince ?? Date.now()) < 120_000)
                return scheduleReconnect('server unreachable');
              finish(err);
            });
        }, delay),
      );
    };

    const connect = () => {
      if (finished) return;
      const ws = new WebSocket(eventsUrl(opts.server), {
        headers: authHeaders(opts.credential, 'GET'),
        handshakeTimeout: 15_000,
      });
      socket = ws;
      // The socket keeps the process alive; these timers must not, or a finished watch would hang.
      const alive = () => {
        if (silence) clearTimeout(silence);
        silence = setTimeout(() => ws.terminate(), silenceMs).unref();
      };
      ws.on('open', () => {
        alive();
        ws.send(
          JSON.stringify({
            type: 'subscribe',
            topics: opts.topics,
            ...(lastSeq !== undefined ? { since: lastSeq } : {}),
          }),
        );
        if (ping) clearInterval(ping);
        ping = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
        }, silenceMs / 3).unref();
      });
      ws.on('message', (raw) => {
        alive();
        const msg = parseServerMessage(raw.toString());
        if (msg.kind === 'subscribed') {
          attempt = 0;
          lastSeq ??= msg.lastSeq;
          if (!synced) {
            synced = true;
            guard(() => opts.resync());
          }
        } else if (msg.kind === 'event') {
          if (lastSeq !== undefined && msg.seq <= lastSeq) return;
          lastSeq = msg.seq;
          guard(() => opts.onEvent(msg.event, msg.data, msg.seq));
        } else if (msg.kind === 'heartbeat') {
          if (lastSeq === undefined || msg.seq > lastSeq) lastSeq = msg.seq;
        } else if (msg.kind === 'error') {
          if (msg.code === 'since_in_future') {
            // The stream restarted from scratch (e.g. restored database): read the state again.
            lastSeq = undefined;
            synced = false;
            scheduleReconnect(msg.message);
          } else if (msg.code === 'unavailable') scheduleReconnect(msg.message);
          else {
            const code =
              msg.code === 'forbidden'
                ? ExitCode.Auth
                : msg.code === 'unknown_topic'
                  ? ExitCode.NotFound
                  : ExitCode.Error;
            finish(new CliError(`event stream: ${msg.message}`, code));
          }
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        if (status === 401 || status === 403)
          finish(
            new CliError(
              `event stream refused the credentials (HTTP ${status}); run qubot login`,
              ExitCode.Auth,
            ),
          );
        else scheduleReconnect(`HTTP ${status} on upgrade`);
      });
      ws.on('close', (code, reason) => {
        if (code === CLOSE_UNAUTHENTICATED)
          return finish(
            new CliError(
              `event stream: ${reason.toString() || 'not authenticated'}; run qubot login`,
              ExitCode.Auth,
            ),
          );
        scheduleReconnect(`closed with ${code}`);
      });
      ws.on('error', (err) => {
        scheduleReconnect(err.message);
      });
    };
    connect();
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
