import { open, stat } from 'node:fs/promises';

export interface LogFollower {
  /** Resolves once the follower knows where the file ends (lines written later will be sent). */
  ready: Promise<void>;
  stop(): void;
}

/**
 * Calls `onLines` with every complete line appended to `path` from now on. The file is checked
 * every `pollMs` (the supervisor appends to it from another process, and may rotate it: a file
 * that got shorter is read again from its start). Reads at most `maxChunk` bytes a round, so a
 * chatty instance cannot flood one viewer.
 */
export function followLog(
  path: string,
  onLines: (lines: string[]) => void,
  opts: { pollMs?: number; maxChunk?: number } = {},
): LogFollower {
  const pollMs = opts.pollMs ?? 300;
  const maxChunk = opts.maxChunk ?? 256 * 1024;
  let offset: number | null = null;
  let partial = '';
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });

  async function round(): Promise<void> {
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      size = 0;
    }
    if (offset === null) {
      // Start at the end: what is already there was sent with the initial tail.
      offset = size;
      return;
    }
    if (size < offset) {
      offset = 0;
      partial = '';
    }
    if (size === offset) return;
    const length = Math.min(size - offset, maxChunk);
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      offset += bytesRead;
      const text = partial + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      if (lines.length > 0 && !stopped) onLines(lines);
    } finally {
      await fh.close();
    }
  }

  const loop = () => {
    round()
      .catch(() => {})
      .finally(() => {
        if (offset !== null) markReady();
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  loop();

  return {
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
