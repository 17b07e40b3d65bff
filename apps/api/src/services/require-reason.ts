import { AppError } from '../lib/app-error.ts';

/**
 * Every action that moves traffic or changes a protected environment takes a reason (it is
 * written to the audit log). 400 naming `body.reason` when it is missing or blank.
 */
export function requireReason(reason: string | null | undefined, why: string): string {
  const trimmed = reason?.trim();
  if (!trimmed) throw AppError.badField('body.reason', `is required: ${why}`);
  return trimmed;
}
