import websocket from '@fastify/websocket';
import { EventStreamClose } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge, Histogram } from 'prom-client';
import type { WebSocket } from 'ws';
import { can, canReadApplication } from '../lib/permissions.ts';
import type { Actor } from '../lib/request-context.ts';
import { createEventBus, type EventBus, type EventBusOptions } from './event-bus.ts';
import {
  createEventSession,
  DEFAULT_LIMITS,
  type EventSession,
  type SessionAccess,
  type SessionLimits,
} from './event-session.ts';
import { audienceOf } from './event-views.ts';
import type { CredentialChange } from './revocation.ts';
import { createTopicResolver } from './topics.ts';

export interface EventStreamOptions {
  limits?: Partial<SessionLimits>;
  /** Heartbeat message + ws ping this often; a peer silent for two ticks is cut (ms). */
  heartbeatMs?: number;
  bus?: Omit<EventBusOptions, 'db' | 'log'>;
}

/** Who opened a socket, and how to check again that they still may (issue 8 item 7). */
export interface StreamCaller {
  actor: Actor;
  /** What the per-user socket limit counts: `user:<id>` or `token:<id>`. */
  principal: string;
  /** The user, or the user who created the token. */
  userId: string | null;
  sessionId: string | null;
  tokenId: string | null;
  /** The credentials of the upgrade request resolved again: the actor now, or null when invalid. */
  revalidate(): Promise<Actor | null>;
}

export interface EventStreamHub {
  /**
   * Serve the event protocol on an upgraded socket, reading with the caller's rights; null (and
   * the socket closed) when the caller already has the maximum number of sockets open.
   */
  open(socket: WebSocket, caller: StreamCaller): EventSession | null;
  clientCount(): number;
}

function accessFor(actor: Actor): SessionAccess {
  return {
    // The fleet's hosts (`hosts`) are for admins, as GET /hosts is.
    authorize: (topic) =>
      topic.kind === 'hosts'
        ? can(actor, 'settings.manage')
        : canReadApplication(actor, topic.application.name),
    audience: audienceOf(actor),
  };
}

const sameRights = (a: Actor, b: Actor) =>
  a.role === b.role && (a.applications ?? []).join('\n') === (b.applications ?? []).join('\n');

function affects(caller: StreamCaller, change: CredentialChange): boolean {
  return (
    (change.sessionId !== undefined && change.sessionId === caller.sessionId) ||
    (change.tokenId !== undefined && change.tokenId === caller.tokenId) ||
    (change.userId !== undefined && change.userId === caller.userId)
  );
}

declare module 'fastify' {
  interface FastifyInstance {
    eventBus: EventBus;
    eventStream: EventStreamHub;
  }
}

/** The event bus of this process and the websocket sessions it feeds (DESIGN §5). */
export default fp(
  async (app: FastifyInstance, opts: EventStreamOptions) => {
    const limits: SessionLimits = { ...DEFAULT_LIMITS, ...opts.limits };
    const heartbeatMs = opts.heartbeatMs ?? 15_000;
    const bus = createEventBus({ db: app.db, log: app.log, ...opts.bus });
    await bus.start();
    const resolve = createTopicResolver(app.repos);
    const sessions = new Map<WebSocket, EventSession>();
    const callers = new Map<WebSocket, StreamCaller>();
    const perPrincipal = new Map<string, number>();

    /**
     * Checks a socket's credentials again: closes it when they were revoked, downgrades (or
     * closes) it when its rights changed. False when the socket may no longer stream.
     */
    async function recheck(socket: WebSocket): Promise<boolean> {
      const caller = callers.get(socket);
      const session = sessions.get(socket);
      if (!caller || !session) return false;
      const actor = await caller.revalidate();
      if (!sessions.has(socket)) return false;
      if (!actor) {
        session.close(EventStreamClose.Revoked, 'credentials revoked or expired; sign in again');
        return false;
      }
      if (sameRights(actor, caller.actor)) return true;
      caller.actor = actor;
      return session.setAccess(accessFor(actor));
    }

    /** A notice-driven re-check; while the database is away, try again until it answers. */
    function recheckSoon(socket: WebSocket, attempt = 0): void {
      recheck(socket).catch((err) => {
        if (attempt >= 60 || !sessions.has(socket)) return;
        app.log.warn({ err }, 'event stream credential re-check failed; retrying');
        setTimeout(() => recheckSoon(socket, attempt + 1), 1000).unref();
      });
    }

    new Gauge({
      name: 'qubot_websocket_clients',
      help: 'Open event stream connections',
      registers: [app.metrics],
      collect() {
        this.set(sessions.size);
      },
    });
    const lag = new Histogram({
      name: 'qubot_event_lag_seconds',
      help: 'Time from an event being stored to this process dispatching it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [app.metrics],
    });
    bus.onDispatch((createdAt) => lag.observe((Date.now() - createdAt) / 1000));
    bus.onCredentialsChanged((change) => {
      for (const [socket, caller] of callers) if (!change || affects(caller, change)) recheckSoon(socket);
    });

    const tick = setInterval(() => {
      for (const [socket, session] of sessions) {
        if (!session.heartbeat()) {
          session.dispose();
          socket.terminate();
          continue;
        }
        socket.ping();
      }
    }, heartbeatMs);
    tick.unref();

    const hub: EventStreamHub = {
      open(socket, caller) {
        const count = perPrincipal.get(caller.principal) ?? 0;
        if (count >= limits.maxSocketsPerUser) {
          socket.close(
            EventStreamClose.TooManyConnections,
            `too many event stream connections: at most ${limits.maxSocketsPerUser} per user`,
          );
          return null;
        }
        perPrincipal.set(caller.principal, count + 1);
        const session = createEventSession({
          socket,
          bus,
          resolve,
          access: accessFor(caller.actor),
          revalidate: () => recheck(socket),
          limits,
          log: app.log,
        });
        sessions.set(socket, session);
        callers.set(socket, caller);
        socket.on('message', (data, isBinary) => {
          session.onMessage(isBinary ? '' : data.toString());
        });
        socket.on('pong', () => session.onPong());
        socket.on('close', () => {
          session.dispose();
          sessions.delete(socket);
          callers.delete(socket);
          const n = (perPrincipal.get(caller.principal) ?? 1) - 1;
          if (n > 0) perPrincipal.set(caller.principal, n);
          else perPrincipal.delete(caller.principal);
        });
        return session;
      },
      clientCount: () => sessions.size,
    };
    app.decorate('eventBus', bus);
    app.decorate('eventStream', hub);

    // Registered before @fastify/websocket so it runs first: clients learn why and where to resume.
    app.addHook('preClose', async () => {
      clearInterval(tick);
      for (const session of sessions.values()) {
        session.close(
          EventStreamClose.GoingAway,
          `server shutting down; reconnect with since=${session.position()}`,
        );
      }
    });
    app.addHook('onClose', async () => {
      for (const socket of sessions.keys()) socket.terminate();
      await bus.stop();
    });
    // The event stream is this plugin's transport; client messages are small.
    await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  },
  { name: 'event-bus', dependencies: ['database', 'metrics'] },
);
