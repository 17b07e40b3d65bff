import { PassThrough } from 'node:stream';
import type { LogFollower } from '@qubot/runtime';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendRaw } from './route-kit.ts';

/** A followed log says something this often even when it is quiet (proxies cut idle streams). */
const KEEPALIVE_MS = 15_000;

/**
 * Streams a followed log as NDJSON (`{"lines":[…]}` per batch, the first with `initial`) until the
 * client goes away or the server closes; shared by instance logs and hook run logs.
 */
export function logStreams(app: FastifyInstance) {
  /** Followed logs end before the server closes (it waits for open responses). */
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  return async function stream(
    reply: FastifyReply,
    initial: string[],
    follow: (write: (lines: string[]) => void) => Promise<LogFollower | null>,
  ) {
    const out = new PassThrough();
    const write = (lines: string[]) => {
      if (!out.writableEnded) out.write(`${JSON.stringify({ lines })}\n`);
    };
    write(initial);
    const follower = await follow(write);
    const keepalive = setInterval(() => write([]), KEEPALIVE_MS);
    const end = () => {
      open.delete(end);
      clearInterval(keepalive);
      follower?.stop();
      out.end();
    };
    open.add(end);
    // The response closes when the viewer goes away (or the stream ends).
    reply.raw.once('close', end);
    return sendRaw(
      reply
        .header('content-type', 'application/x-ndjson; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-accel-buffering', 'no')
        // A stream is not worth keeping the connection for: when it ends, the socket goes too.
        .header('connection', 'close'),
      out,
    );
  };
}
