import { InvalidCursorError } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';

/** A malformed cursor is the caller's fault: 400 naming the parameter, never a 500. */
export async function withCursor<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InvalidCursorError) throw AppError.badField('querystring.cursor', 'is malformed');
    throw err;
  }
}
