import type { ApiToken, List, User } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { authKeys } from '../../hooks/api/auth/queries';
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

function render(role: string) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), { username: 'me', role });
  client.setQueryData<List<User>>(userKeys.list(), { items: [user], nextCursor: null });
  client.setQueryData<List<ApiToken>>(tokenKeys.list(), { items: [token], nextCursor: null });
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
  });

  it('tells anyone else that it needs an admin, and shows no user data', () => {
    const html = render('release-manager');
    expect(html).toContain('Settings need the admin role');
    expect(html).not.toContain('alice');
    expect(html).not.toContain('Create a user');
  });
});
