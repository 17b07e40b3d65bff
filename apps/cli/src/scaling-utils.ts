import { UsageError } from './exit-utils.ts';

const NONE = new Set(['none', 'unlimited']);

/** `--cpu 0.5` → 0.5; `none` → null (lifts the limit). The range is the server's to judge. */
export function parseCpus(value: string, flag = 'cpu'): number | null {
  if (NONE.has(value.toLowerCase())) return null;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value))
    throw new UsageError(
      `--${flag} must be a number of CPUs like 0.5, or none (got ${JSON.stringify(value)})`,
    );
  return Number(value);
}

const UNIT_MIB: Record<string, number> = { '': 1, m: 1, mi: 1, mib: 1, g: 1024, gi: 1024, gib: 1024 };

/** `--memory 256`, `256Mi`, `1Gi` → MiB; `none` → null. A size that is not whole MiB is refused. */
export function parseMemoryMb(value: string, flag = 'memory'): number | null {
  if (NONE.has(value.toLowerCase())) return null;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value);
  const factor = m ? UNIT_MIB[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || factor === undefined)
    throw new UsageError(
      `--${flag} must be a size in MiB like 256, 256Mi or 1Gi, or none (got ${JSON.stringify(value)})`,
    );
  const mib = Number(m[1]) * factor;
  if (!Number.isInteger(mib))
    throw new UsageError(`--${flag} must be a whole number of MiB (got ${JSON.stringify(value)})`);
  return mib;
}
