import { describe, expect, it } from 'vitest';
import {
  assertCanApprove,
  can,
  minimumRole,
  requirePermission,
  roleFromDb,
  roleToDb,
} from './permissions.ts';
import type { Actor } from './request-context.ts';

const user = (role: Actor['role'], name: string = role): Actor => ({ name, role, kind: 'user', userId: 'u' });
const prod = { application: 'qubot-one', environment: { name: 'production', protected: true } };
const dev = { application: 'qubot-one', environment: { name: 'development', protected: false } };

describe('[security] permissions', () => {
  it('follows DESIGN §7: protected environments need release-manager', () => {
    expect(can(user('viewer'), 'read')).toBe(true);
    expect(can(user('viewer'), 'deploy', dev)).toBe(false);
    expect(can(user('deployer'), 'deploy', dev)).toBe(true);
    expect(can(user('deployer'), 'deploy', prod)).toBe(false);
    expect(can(user('deployer'), 'deployment.control', dev)).toBe(true);
    expect(can(user('deployer'), 'deployment.control', prod)).toBe(false);
    expect(can(user('release-manager'), 'deploy', prod)).toBe(true);
    for (const p of ['promote', 'traffic', 'rollback', 'approve', 'audit.read'] as const) {
      expect(can(user('deployer'), p, dev)).toBe(false);
      expect(can(user('release-manager'), p, prod)).toBe(true);
    }
    for (const p of ['users.manage', 'tokens.manage', 'backups.manage', 'freeze.override'] as const) {
      expect(can(user('release-manager'), p)).toBe(false);
      expect(can(user('admin'), p)).toBe(true);
    }
    expect(minimumRole('deploy', prod)).toBe('release-manager');
    expect(can(null, 'read')).toBe(false);
    expect(can({ name: 'anonymous', role: 'admin', kind: 'anonymous' }, 'read')).toBe(false);
  });

  it('throws 403 naming the role and the environment, 401 without a caller', () => {
    const err = (() => {
      try {
        requirePermission({ actor: user('deployer') }, 'deploy', prod);
      } catch (e) {
        return e as { statusCode: number; message: string };
      }
    })();
    expect(err?.statusCode).toBe(403);
    expect(err?.message).toBe(
      'forbidden: needs release-manager to deploy to protected environment production',
    );
    expect(() =>
      requirePermission({ actor: { name: 'x', role: 'admin', kind: 'anonymous' } }, 'read'),
    ).toThrow(/sign in/);
  });

  it('limits application-scoped tokens, and keeps people-only rights from tokens', () => {
    const token: Actor = { name: 'token:ci', role: 'admin', kind: 'token', applications: ['qubot-one'] };
    expect(can(token, 'deploy', prod)).toBe(true);
    expect(can(token, 'deploy', { ...prod, application: 'other' })).toBe(false);
    expect(can(token, 'audit.read')).toBe(false);
    const global: Actor = { name: 'token:ops', role: 'admin', kind: 'token', applications: [] };
    expect(can(global, 'audit.read')).toBe(true);
    expect(can(global, 'tokens.manage')).toBe(false);
    expect(can(global, 'users.manage')).toBe(false);
    expect(can(global, 'approve', prod)).toBe(false);
  });

  it('forbids approving your own deployment (two-person rule)', () => {
    expect(() =>
      assertCanApprove(
        { actor: user('release-manager', 'alice') },
        { actor: 'alice', environmentProtected: true },
      ),
    ).toThrow(/second person must approve/);
    expect(() =>
      assertCanApprove({ actor: user('deployer', 'bob') }, { actor: 'alice', environmentProtected: true }),
    ).toThrow(/needs release-manager/);
    expect(() =>
      assertCanApprove(
        { actor: user('release-manager', 'bob') },
        { actor: 'alice', environmentProtected: true },
      ),
    ).not.toThrow();
  });

  it('maps wire role names to the database enum and back', () => {
    expect(roleToDb('release-manager')).toBe('release_manager');
    expect(roleFromDb('release_manager')).toBe('release-manager');
    expect(roleFromDb('viewer')).toBe('viewer');
  });
});
