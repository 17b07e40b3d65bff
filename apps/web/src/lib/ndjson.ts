/** Splits a chunk of an NDJSON stream: whole records out, the unfinished tail kept for the next chunk. */
export function splitNdjson(buffer: string, chunk: string): { records: unknown[]; rest: string } {
  const parts = (buffer + chunk).split('\n');
  const rest = parts.pop() ?? '';
  const records: unknown[] = [];
  for (const p of parts) {
    if (!p.trim()) continue;
    try {
      records.push(JSON.parse(p));
    } catch {
      // A broken record is skipped; the stream goes on.
    }
  }
  return { records, rest };
}

/** The lines of a `{"lines":[…]}` record, or none. */
export function linesOf(record: unknown): string[] {
  const lines = (record as { lines?: unknown } | null)?.lines;
  return Array.isArray(lines) ? lines.filter((l): l is string => typeof l === 'string') : [];
}

/** Appends and keeps the newest `max` lines. */
export function appendLines(current: readonly string[], more: readonly string[], max: number): string[] {
  const all = more.length ? [...current, ...more] : [...current];
  return all.length > max ? all.slice(all.length - max) : all;
}
