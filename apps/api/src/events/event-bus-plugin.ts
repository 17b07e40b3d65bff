import websocket from '@fastify/websocket';
import { EventStreamClose } from '@qubot/api-contract';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge, Histogram } from 'prom-client';
import type { WebSocket } from 'ws';
import { createEventBus, type EventBus, type EventBusOptions } from './event-bus.ts';
import {
  createEventSession,
  DEFAULT_LIMITS,
  type EventSession,
  type SessionLimits,
} from './event-session.ts';
import { createTopicResolver, type ResolvedTopic } from './topics.ts';

export interface EventStreamOptions {
  limits?: Partial<SessionLimits>;
  /** Heartbeat message + ws ping this often; a peer silent for two ticks is cut (ms). */
  heartbeatMs?: number;
  bus?: Omit<EventBusOptions, 'db' | 'log'>;
}

export interface EventStreamHub {
  /** Serve the event protocol on an upgraded socket; `authorize` is checked for every topic. */
  open(socket: WebSocket, authorize: (topic: ResolvedTopic) => boolean): EventSession;
  clientCount(): number;
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
    const resolve = createTopicResolver(app.db.prisma);
    const sessions = new Map<WebSocket, EventSession>();

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
      open(socket, authorize) {
        const session = createEventSession({ socket, bus, resolve, authorize, limits, log: app.log });
        sessions.set(socket, session);
        socket.on('message', (data, isBinary) => {
          session.onMessage(isBinary ? '' : data.toString());
        });
        socket.on('pong', () => session.onPong());
        socket.on('close', () => {
          session.dispose();
          sessions.delete(socket);
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
