import { type EnvironmentHooks, HOOK_JOB_PATTERN, type PutHooksBody } from '@qubot/api-contract';

export type HookPhase = 'pre' | 'post';

export interface HookDraft {
  enabled: boolean;
  job: string;
  /** As typed (the field is a number input, but may be empty while editing). */
  timeoutSeconds: string;
}

export type HooksDraft = Record<HookPhase, HookDraft>;

const DEFAULT_TIMEOUT = '300';
const jobPattern = new RegExp(HOOK_JOB_PATTERN);

export function draftOfHooks(h: Pick<EnvironmentHooks, 'pre' | 'post'>): HooksDraft {
  const one = (s: EnvironmentHooks['pre']): HookDraft =>
    s
      ? { enabled: true, job: s.job, timeoutSeconds: String(s.timeoutSeconds) }
      : { enabled: false, job: '', timeoutSeconds: DEFAULT_TIMEOUT };
  return { pre: one(h.pre), post: one(h.post) };
}

/** What is wrong with one hook's fields, by field; empty when it can be saved. */
export function hookProblems(d: HookDraft): { job?: string; timeoutSeconds?: string } {
  if (!d.enabled) return {};
  const out: { job?: string; timeoutSeconds?: string } = {};
  if (d.job.trim() === '') out.job = 'Name the job (the job launcher runs it).';
  else if (!jobPattern.test(d.job.trim()))
    out.job =
      'Letters, digits and . _ + - only, starting with a letter or digit (a job name, not a command).';
  const t = Number(d.timeoutSeconds);
  if (!Number.isInteger(t) || t < 1 || t > 3600) out.timeoutSeconds = 'A whole number of seconds, 1–3600.';
  return out;
}

export function hooksValid(d: HooksDraft): boolean {
  return Object.keys(hookProblems(d.pre)).length === 0 && Object.keys(hookProblems(d.post)).length === 0;
}

/** The PUT body: a disabled hook is null (removed). */
export function hooksBody(d: HooksDraft, reason: string): PutHooksBody {
  const one = (h: HookDraft) =>
    h.enabled ? { job: h.job.trim(), timeoutSeconds: Number(h.timeoutSeconds) } : null;
  return { pre: one(d.pre), post: one(d.post), ...(reason.trim() ? { reason: reason.trim() } : {}) };
}
