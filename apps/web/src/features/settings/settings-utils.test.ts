import { describe, expect, it } from 'vitest';
import {
  isAdmin,
  parseExpiryDays,
  ROLE_OPTIONS,
  sortTokens,
  tokenNameProblem,
  tokenScope,
  usernameProblem,
  userStatus,
} from './settings-utils';

describe('settings utils', () => {
  it('only admins manage settings', () => {
    expect(isAdmin('admin')).toBe(true);
    expect(isAdmin('release-manager')).toBe(false);
    expect(isAdmin(undefined)).toBe(false);
    expect(ROLE_OPTIONS.map((r) => r.value)).toEqual(['viewer', 'deployer', 'release-manager', 'admin']);
  });

  it('validates usernames, token names and expiry like the server', () => {
    expect(usernameProblem('alice.b-1')).toBeNull();
    expect(usernameProblem('')).toMatch(/Enter/);
    expect(usernameProblem('-alice')).toMatch(/Letters/);
    expect(usernameProblem('a b')).toMatch(/Letters/);
    expect(tokenNameProblem('CI deploy')).toBeNull();
    expect(tokenNameProblem(' ')).toMatch(/Enter/);
    expect(tokenNameProblem('x'.repeat(101))).toMatch(/at most 100/);
    expect(parseExpiryDays('')).toBeUndefined();
    expect(parseExpiryDays('30')).toBe(30);
    expect(parseExpiryDays('0')).toBeNull();
    expect(parseExpiryDays('3651')).toBeNull();
    expect(parseExpiryDays('1.5')).toBeNull();
  });

  it('describes users and tokens', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const base = { disabled: false, lockedUntil: null, mustChangePassword: false };
    expect(userStatus(base, now)).toBe('active');
    expect(userStatus({ ...base, disabled: true }, now)).toBe('disabled');
    expect(userStatus({ ...base, lockedUntil: '2026-01-01T01:00:00Z' }, now)).toBe('locked');
    expect(userStatus({ ...base, lockedUntil: '2025-12-31T00:00:00Z' }, now)).toBe('active');
    expect(userStatus({ ...base, mustChangePassword: true }, now)).toBe('must change password');
    expect(tokenScope({ applications: [] })).toBe('all applications');
    expect(tokenScope({ applications: ['a', 'b'] })).toBe('a, b');
    const tokens = [
      { id: 'old', status: 'active' as const, createdAt: '2025-01-01T00:00:00Z' },
      { id: 'revoked', status: 'revoked' as const, createdAt: '2026-01-02T00:00:00Z' },
      { id: 'new', status: 'active' as const, createdAt: '2026-01-01T00:00:00Z' },
    ];
    expect(sortTokens(tokens).map((t) => t.id)).toEqual(['new', 'old', 'revoked']);
  });
});
