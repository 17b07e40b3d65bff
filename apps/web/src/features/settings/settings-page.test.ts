import type { ApiToken, Backup, BackupStatus, List, User } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { authKeys } from '../../hooks/api/auth/queries';
import { backupKeys } from '../../hooks/api/backups/queries';
import { tokenKeys } from '../../hooks/api/tokens/queries';
import { userKeys } from '../../hooks/api/users/queries';
import { SettingsPage } from './settings-page';

const user: User = {
  id: 'u1',
  username: 'alice',
  displayName: null,
  role: 'deployer',
  disabled: false,
  mustChangePassword: false,
  lockedUntil: null,
  createdAt: '2026-01-01T00:00:00Z',
};
const token: ApiToken = {
  id: 't1',
  name: 'ci',
  prefix: 'qbt_ab',
  role: 'deployer',
  applications: [],
  createdBy: 'admin',
  createdAt: '2026-01-01T00:00:00Z',
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  status: 'active',
};

const backup: Backup = {
  id: 'qb-20261201T040000Z-1a2b3c',
  createdAt: '2026-12-01T04:00:00.000Z',
  createdBy: 'system:backup-schedule',
  toolVersion: '0.1.0',
  migration: '20261203000200_backups',
  rows: 200_009,
  compressedBytes: 1_900_329,
  durationMs: 305,
  verification: null,
  error: null,
  locations: ['local', 's3'],
};
const backupStatus: BackupStatus = {
  directory: '/data/backups',
  lastBackupAt: backup.createdAt,
  lastBackupId: backup.id,
  lastDrill: null,
  lastGoodDrillAt: null,
  drillState: 'overdue',
  schedule: { backupEveryHours: 24, drillEveryHours: 24, keep: 7, drillMaxAgeHours: 48 },
  remote: null,
};

function render(role: string) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), { username: 'me', role });
  client.setQueryData<List<User>>(userKeys.list(), { items: [user], nextCursor: null });
  client.setQueryData<List<ApiToken>>(tokenKeys.list(), { items: [token], nextCursor: null });
  client.setQueryData<List<Backup>>(backupKeys.list(), { items: [backup], nextCursor: null });
  client.setQueryData<BackupStatus>(backupKeys.status(), backupStatus);
  return renderToStaticMarkup(
    createElement(
      QueryClientProvider,
      { client },
      createElement(MemoryRouter, null, createElement(SettingsPage)),
    ),
  );
}

describe('settings page', () => {
  it('shows users and tokens to an admin, with labelled forms', () => {
    const html = render('admin');
    expect(html).toContain('aria-label="Create a user"');
    expect(html).toContain('aria-label="Create an API token"');
    expect(html).toContain('alice');
    expect(html).toContain('aria-label="Role of alice"');
    expect(html).toMatch(/Revoke<span class="visually-hidden"> ci<\/span>/);
    expect(html).not.toContain('needs the admin role');
    // Backups: the list, its actions, and the drill alert (no drill has succeeded yet).
    expect(html).toContain('qb-20261201T040000Z-1a2b3c');
    expect(html).toMatch(/Verify<span class="visually-hidden"> qb-20261201T040000Z-1a2b3c<\/span>/);
    expect(html).toMatch(/role="alert">Overdue: no restore drill has succeeded yet/);
  });

  it('tells anyone else that it needs an admin, and shows no user data', () => {
    const html = render('release-manager');
    expect(html).toContain('Settings need the admin role');
    expect(html).not.toContain('alice');
    expect(html).not.toContain('Create a user');
  });
});
