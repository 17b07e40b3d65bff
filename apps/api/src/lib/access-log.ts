import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';

/** What the access line of one request says (app.ts, the log controller). */
export interface AccessLine {
  reqId: string;
  method: string;
  url: string;
  statusCode: number;
  responseTime: number;
  remoteAddress: string;
}

export interface AccessLog {
  write(line: AccessLine): void;
}

/**
 * The logger for access lines (one per request, app.ts): the same JSON as every other line, written
 * to the same file descriptor, but buffered — up to `minLength` bytes or `flushMs`, whichever comes
 * first — so a busy API makes one `write` per few dozen requests instead of one per request (a
 * system call per request was a measurable share of a cached read: bench/README.md, "The read
 * path"). The lines hold no secret, so they skip redaction. Other lines (errors, warnings, the
 * orchestrator's) stay unbuffered on the main logger. Flushed when the process exits normally;
 * a process killed with SIGKILL loses at most the last `flushMs` of access lines.
 */
export function createAccessLogger(opts: {
  level: string;
  /** Fields of every line after `pid` and `hostname`, as pino's `base` (main.ts: `component`). */
  base?: Record<string, string>;
  /** File descriptor or path (default 1, stdout). */
  dest?: number | string;
  minLength?: number;
  flushMs?: number;
}): AccessLog & { logger: Logger; flush(): void; close(): void } {
  const dest = pino.destination({ dest: opts.dest ?? 1, sync: true, minLength: opts.minLength ?? 8192 });
  const base = { pid: process.pid, hostname: hostname(), ...opts.base };
  const logger = pino({ level: opts.level, base }, dest);
  // The line pino would write for `logger.info(line, 'request completed')`, built as one template
  // string (pino's generic serialiser was most of a log call's cost); access-log.test.ts checks
  // both parse to the same object.
  const head = `{"level":${logger.levels.values.info},"time":`;
  const source = `,${JSON.stringify(base).slice(1, -1)}`;
  const json = JSON.stringify;
  // `flush()` writes what is buffered (a synchronous write in this mode, no fsync); `flushSync()`
  // also fsyncs, which is only worth it once, at exit.
  const flush = () => {
    try {
      dest.flush();
    } catch {
      // The descriptor is gone: nothing more to do.
    }
  };
  const flushAtExit = () => {
    try {
      dest.flushSync();
    } catch {
      // Nothing buffered, or the descriptor does not fsync (a pipe).
    }
  };
  const timer = setInterval(flush, opts.flushMs ?? 200);
  timer.unref();
  process.once('exit', flushAtExit);
  return {
    logger,
    write(l: AccessLine): void {
      if (!logger.isLevelEnabled('info')) return;
      dest.write(
        `${head}${Date.now()}${source},"reqId":${json(l.reqId)},"method":${json(l.method)},"url":${json(l.url)},"statusCode":${l.statusCode},"responseTime":${l.responseTime},"remoteAddress":${json(l.remoteAddress)},"msg":"request completed"}\n`,
      );
    },
    flush,
    close() {
      clearInterval(timer);
      process.off('exit', flushAtExit);
      flushAtExit();
    },
  };
}
