import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { CliError, ExitCode } from './exit-utils.ts';
import { DEPLOYMENT_ID, deployment } from './test-fixtures.ts';
import { followDeployment } from './watch.ts';

let wss: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise((r) => (wss ? wss.close(r) : r(undefined)));
  wss = undefined;
});

/** A stand-in event stream: each connection is handed to the next scripted handler. */
async function fakeStream(
  handlers: Array<(ws: WebSocket, subscribe: Record<string, unknown>) => void>,
  opts: { verifyStatus?: number } = {},
) {
  const subscribes: Array<Record<string, unknown>> = [];
  const upgrades: Array<string | undefined> = [];
  wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    verifyClient: (info, cb) => {
      upgrades.push(info.req.headers.authorization);
      if (opts.verifyStatus) cb(false, opts.verifyStatus);
      else cb(true);
    },
  });
  await new Promise((r) => wss!.once('listening', r));
  wss.on('connection', (ws) => {
    const handler = handlers.shift();
    ws.once('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      subscribes.push(msg);
      handler?.(ws, msg);
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return { server: `http://127.0.0.1:${port}`, subscribes, upgrades };
}

const event = (seq: number, data: unknown) =>
  JSON.stringify({
    type: 'event',
    seq,
    prev: seq - 1,
    event: 'deployment.updated',
    topics: [],
    data,
    at: 'now',
  });

describe('[CLI] following a deployment over the event stream', () => {
  it('prints each change, resumes after a dropped connection with since, and ends at a terminal status', async () => {
    const running = deployment();
    const switched = deployment({
      steps: running.steps.map((s) => (s.position === 1 ? { ...s, status: 'succeeded' } : s)),
    });
    const done = deployment({
      status: 'succeeded',
      steps: switched.steps.map((s) => ({ ...s, status: 'succeeded' })),
    });
    const stream = await fakeStream([
      (ws) => {
        ws.send(JSON.stringify({ type: 'subscribed', topics: [], since: null, lastSeq: 10 }));
        ws.send(event(11, switched));
        // A deployment of another topic must not be taken for ours.
        ws.send(event(12, { ...done, id: '0b5c0000-0000-4000-8000-00000000ffff' }));
        ws.close(1001, 'going away');
      },
      (ws) => {
        ws.send(JSON.stringify({ type: 'subscribed', topics: [], since: 12, lastSeq: 12 }));
        ws.send(JSON.stringify({ type: 'heartbeat', seq: 12 }));
        ws.send(event(13, done));
      },
    ]);
    const seen: string[] = [];
    const final = await followDeployment({
      server: stream.server,
      credential: { kind: 'token', token: 'qbt_t' },
      deploymentId: DEPLOYMENT_ID,
      fetchDeployment: async () => running,
      onUpdate: (prev, next) => seen.push(`${prev?.status ?? 'none'}->${next.status}`),
    });
    expect(final.status).toBe('succeeded');
    expect(stream.subscribes).toEqual([
      { type: 'subscribe', topics: [`deployment:${DEPLOYMENT_ID}`] },
      { type: 'subscribe', topics: [`deployment:${DEPLOYMENT_ID}`], since: 12 },
    ]);
    expect(stream.upgrades[0]).toBe('Bearer qbt_t');
    // First the REST read, then the events in order; the resync before reconnecting reads again.
    expect(seen[0]).toBe('none->running');
    expect(seen).toContain('running->running');
    expect(seen.at(-1)).toBe('running->succeeded');
  });

  it('stops at once when the deployment has already finished', async () => {
    const stream = await fakeStream([
      (ws) => ws.send(JSON.stringify({ type: 'subscribed', topics: [], since: null, lastSeq: 3 })),
    ]);
    const final = await followDeployment({
      server: stream.server,
      credential: null,
      deploymentId: DEPLOYMENT_ID,
      fetchDeployment: async () => deployment({ status: 'rolled_back' }),
      onUpdate: () => {},
    });
    expect(final.status).toBe('rolled_back');
  });

  it('exits 3 when the stream refuses the credentials', async () => {
    const stream = await fakeStream([], { verifyStatus: 401 });
    const err = await followDeployment({
      server: stream.server,
      credential: null,
      deploymentId: DEPLOYMENT_ID,
      fetchDeployment: async () => deployment(),
      onUpdate: () => {},
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Auth);
  });

  it('exits 4 when the server does not know the topic', async () => {
    const stream = await fakeStream([
      (ws) =>
        ws.send(
          JSON.stringify({
            type: 'error',
            code: 'unknown_topic',
            message: 'unknown topic x',
            field: 'topics[0]',
          }),
        ),
    ]);
    await expect(
      followDeployment({
        server: stream.server,
        credential: null,
        deploymentId: DEPLOYMENT_ID,
        fetchDeployment: async () => deployment(),
        onUpdate: () => {},
      }),
    ).rejects.toMatchObject({ exitCode: ExitCode.NotFound, message: 'event stream: unknown topic x' });
  });
});
