// Credentials that change while a websocket is open (issue 8 item 7). The writer calls
// notifyCredentialsChanged inside the transaction that revokes or changes them: PostgreSQL
// delivers the NOTIFY to every API process on commit (and never on rollback), and each
// process's event stream re-checks the affected sockets (see event-bus-plugin.ts).
import { notify, type Tx } from '@qubot/db';

/** NOTIFY channel of credential changes; payload: a CredentialChange as JSON. */
export const CREDENTIALS_CHANNEL = 'qubot_credentials';

export type CredentialChangeReason =
  | 'token.revoke'
  | 'logout'
  | 'password'
  | 'disabled'
  | 'role'
  | 'host.revoke';

export interface CredentialChange {
  reason: CredentialChangeReason;
  /** Every socket of this user (and of the tokens the user created) is re-checked. */
  userId?: string;
  /** A session row id (the SHA-256 of the cookie). */
  sessionId?: string;
  /** An API token id. */
  tokenId?: string;
  /** A host whose agent credential was revoked (its agent connection closes). */
  hostId?: string;
}

const REASONS: ReadonlySet<string> = new Set([
  'token.revoke',
  'logout',
  'password',
  'disabled',
  'role',
  'host.revoke',
]);

export function parseCredentialChange(text: string): CredentialChange | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || typeof v.reason !== 'string' || !REASONS.has(v.reason))
      return null;
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
    const change: CredentialChange = { reason: v.reason as CredentialChangeReason };
    const userId = str(v.userId);
    const sessionId = str(v.sessionId);
    const tokenId = str(v.tokenId);
    const hostId = str(v.hostId);
    if (hostId) change.hostId = hostId;
    if (userId) change.userId = userId;
    if (sessionId) change.sessionId = sessionId;
    if (tokenId) change.tokenId = tokenId;
    return change;
  } catch {
    return null;
  }
}

/**
 * Tell every API process that these credentials changed. Call it with the transaction that
 * makes the change, so the notice goes out exactly when (and only if) the change commits.
 */
export async function notifyCredentialsChanged(tx: Tx, change: CredentialChange): Promise<void> {
  await notify(tx, CREDENTIALS_CHANNEL, JSON.stringify(change));
}
