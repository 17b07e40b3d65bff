import type { ApiToken, RoleName, User } from '@qubot/api-contract';

export const ROLE_OPTIONS: { value: RoleName; label: string }[] = [
  { value: 'viewer', label: 'viewer — read only' },
  { value: 'deployer', label: 'deployer — deploy to unprotected environments' },
  { value: 'release-manager', label: 'release-manager — protected environments, promote, rollback' },
  { value: 'admin', label: 'admin — users, tokens, settings' },
];

export const isAdmin = (role: string | undefined | null) => role === 'admin';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;

/** Same rules as the server's schema, so the form can say what is wrong before sending. */
export function usernameProblem(value: string): string | null {
  if (!value.trim()) return 'Enter a username.';
  return USERNAME.test(value) ? null : 'Letters, digits, dot, dash and underscore; at most 64.';
}

export function tokenNameProblem(value: string): string | null {
  if (!value.trim()) return 'Enter a name for the token.';
  return TOKEN_NAME.test(value) ? null : 'Letters, digits, spaces, dot, dash and underscore; at most 100.';
}

/** "7", "" → 7, undefined (no expiry); anything else → null (invalid). */
export function parseExpiryDays(value: string): number | undefined | null {
  const v = value.trim();
  if (v === '') return undefined;
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= 1 && n <= 3650 ? n : null;
}

export function userStatus(user: Pick<User, 'disabled' | 'lockedUntil' | 'mustChangePassword'>, now: number) {
  if (user.disabled) return 'disabled';
  if (user.lockedUntil && Date.parse(user.lockedUntil) > now) return 'locked';
  if (user.mustChangePassword) return 'must change password';
  return 'active';
}

export function tokenScope(token: Pick<ApiToken, 'applications'>): string {
  return token.applications.length ? token.applications.join(', ') : 'all applications';
}

/** Newest first, active ones before revoked or expired. */
export function sortTokens<T extends Pick<ApiToken, 'status' | 'createdAt'>>(tokens: readonly T[]): T[] {
  const weight = (t: T) => (t.status === 'active' ? 0 : 1);
  return [...tokens].sort((a, b) => weight(a) - weight(b) || b.createdAt.localeCompare(a.createdAt));
}
