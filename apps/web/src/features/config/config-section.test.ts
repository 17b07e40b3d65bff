import type { ConfigVersion, Environment, List } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { authKeys } from '../../hooks/api/auth/queries';
import { configKeys } from '../../hooks/api/config/queries';
import { ConfigSection } from './config-section';

const config: ConfigVersion = {
  version: 2,
  entries: [
    { key: 'DATABASE_PASSWORD', value: '••••••', secret: true },
    { key: 'LOG_LEVEL', value: 'info', secret: false },
  ],
  createdBy: 'deployer',
  createdAt: '2026-01-01T00:00:00Z',
  comment: 'quieter logs',
};
const env = { name: 'production', protected: true } as Environment;

function render(role: string) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), { username: 'me', role });
  client.setQueryData(configKeys.current('qubot-one', 'production'), config);
  client.setQueryData(configKeys.versions('qubot-one', 'production'), {
    pages: [{ items: [config], nextCursor: null } satisfies List<ConfigVersion>],
    pageParams: [null],
  });
  return renderToStaticMarkup(
    createElement(
      QueryClientProvider,
      { client },
      createElement(MemoryRouter, null, createElement(ConfigSection, { app: 'qubot-one', env })),
    ),
  );
}

describe('configuration section', () => {
  it('lists entries with secrets masked, and the history', () => {
    const html = render('release-manager');
    expect(html).toContain('<h2 id="config-title">Configuration</h2>');
    expect(html).toContain('LOG_LEVEL');
    expect(html).toContain('••••••');
    expect(html).toContain('value hidden');
    expect(html).toContain('quieter logs');
    expect(html).toContain('Changes from v1');
    expect(html).toContain('Edit configuration');
  });

  it('offers no editing to a deployer on a protected environment', () => {
    expect(render('deployer')).not.toContain('Edit configuration');
  });
});
