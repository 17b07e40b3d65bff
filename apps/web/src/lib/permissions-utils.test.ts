import { describe, expect, it } from 'vitest';
import { approvalView, can, deniedHint, isFreezeRefusal } from './permissions-utils';

describe('permissions mirror', () => {
  it('follows the role table of docs/security.md', () => {
    expect(can('viewer', 'deploy')).toBe(false);
    expect(can('deployer', 'deploy')).toBe(true);
    expect(can('deployer', 'deploy', true)).toBe(false);
    expect(can('release-manager', 'deploy', true)).toBe(true);
    expect(can('deployer', 'deployment.control', true)).toBe(false);
    expect(can('deployer', 'promote')).toBe(false);
    expect(can('release-manager', 'traffic', true)).toBe(true);
    expect(can('release-manager', 'freeze.override')).toBe(false);
    expect(can('admin', 'freeze.override')).toBe(true);
    expect(can(undefined, 'deploy')).toBe(false);
    expect(can('superuser', 'deploy')).toBe(false);
  });

  it('says which role a disabled control needs', () => {
    expect(deniedHint('deployer', 'deploy', true)).toBe(
      'Needs release-manager in a protected environment (you are deployer).',
    );
    expect(deniedHint('viewer', 'promote')).toBe('Needs release-manager (you are viewer).');
  });

  it('applies the two-person rule to Approve', () => {
    const waiting = { status: 'paused', waitingFor: 'approval', actor: 'alice' };
    expect(approvalView({ username: 'bob', role: 'release-manager' }, waiting).kind).toBe('can-approve');
    expect(approvalView({ username: 'root', role: 'admin' }, waiting).kind).toBe('can-approve');
    expect(approvalView({ username: 'alice', role: 'release-manager' }, waiting)).toMatchObject({
      kind: 'own-request',
      message: expect.stringMatching(/second person/),
    });
    expect(approvalView({ username: 'carol', role: 'deployer' }, waiting).kind).toBe('needs-role');
    expect(approvalView(null, waiting).kind).toBe('needs-role');
    expect(approvalView({ username: 'bob', role: 'admin' }, { ...waiting, waitingFor: 'switch' }).kind).toBe(
      'not-waiting',
    );
  });

  it('recognises a freeze refusal only by its status and code', () => {
    expect(isFreezeRefusal({ status: 409, code: 'environment_frozen' })).toBe(true);
    expect(isFreezeRefusal({ status: 409, code: 'conflict' })).toBe(false);
    expect(isFreezeRefusal(new Error('frozen'))).toBe(false);
    expect(isFreezeRefusal(null)).toBe(false);
  });
});
