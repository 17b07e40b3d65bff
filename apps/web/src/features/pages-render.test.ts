import type { Application, Deployment, Environment, List, Release } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ComponentType, createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { describe, expect, it } from 'vitest';
import {
  deploymentFixture,
  doraReportFixture,
  environmentFixture,
} from '../../../api/src/views/view-fixtures.ts';
import { applicationKeys } from '../hooks/api/applications/queries';
import { authKeys } from '../hooks/api/auth/queries';
import { deploymentKeys } from '../hooks/api/deployments/queries';
import { doraKeys } from '../hooks/api/dora/queries';
import { environmentKeys } from '../hooks/api/environments/queries';
import { releaseKeys } from '../hooks/api/releases/queries';
import { DeploymentDetailPage } from './deployments/deployment-detail-page';
import { DeploymentsPage } from './deployments/deployments-page';
import { DoraPage } from './dora/dora-page';
import { EnvironmentDetailPage } from './environments/environment-detail-page';
import { ReleaseDetailPage } from './releases/release-detail-page';
import { ReleasesPage } from './releases/releases-page';

// Server-rendered with a seeded cache: every page must render its data without a DOM or a server.

const app: Application = {
  id: 'a1',
  name: 'qubot-one',
  description: 'Demo service',
  environments: ['development', 'staging'],
  createdAt: '2025-01-01T00:00:00Z',
};

// A promotion of 1.1.0 as the server sends it: a canary that has measured its first step.
const deployment: Deployment = deploymentFixture({
  id: 'd1',
  kind: 'promote',
  reason: 'weekly release',
  actor: 'alice',
  traffic: { requests: 1200, failed: 6 },
  input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0', replicas: 1 },
  drive: (sim) => {
    sim.start().run({ timers: false });
    while (sim.state.analysis.length === 0) {
      sim.fireNextTimer();
      sim.run({ timers: false });
    }
  },
});

const release: Release = {
  id: 'r1',
  version: '1.1.0',
  artifact: 'builds/1.1.0',
  commit: 'abcdef1234567',
  changelog: '- faster\n- safer',
  buildUrl: 'javascript:alert(1)',
  testResults: { passed: 10, failed: 0 },
  createdBy: 'ci',
  createdAt: '2025-01-01T00:00:00Z',
  deployedTo: [{ environment: 'development', live: true, lastStatus: 'succeeded' }],
};

const staging: Environment = environmentFixture({
  name: 'staging',
  position: 1,
  replicas: 1,
  live: { version: '1.0.0', color: 'blue' },
  previous: '0.9.0',
});

function render(path: string, pattern: string, Page: ComponentType) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), { username: 'someone', role: 'release-manager' });
  client.setQueryData<List<Application>>(applicationKeys.list(), { items: [app], nextCursor: null });
  client.setQueryData(deploymentKeys.detail('d1'), deployment);
  const page = { pages: [{ items: [deployment], nextCursor: 'next' }], pageParams: [null] };
  client.setQueryData(deploymentKeys.list({ app: 'qubot-one' }), page);
  client.setQueryData(deploymentKeys.list({ app: 'qubot-one', env: 'staging', limit: 20 }), page);
  client.setQueryData(releaseKeys.list('qubot-one'), {
    pages: [{ items: [release], nextCursor: null }],
    pageParams: [null],
  });
  client.setQueryData(releaseKeys.detail('qubot-one', '1.1.0'), release);
  client.setQueryData(environmentKeys.detail('qubot-one', 'staging'), staging);
  client.setQueryData(doraKeys.report('qubot-one'), doraReportFixture());
  client.setQueryData<List<Environment>>(environmentKeys.list('qubot-one'), {
    items: [{ ...staging, name: 'development', position: 0 }, staging],
    nextCursor: null,
  });
  const html = renderToStaticMarkup(
    createElement(
      QueryClientProvider,
      { client },
      createElement(
        MemoryRouter,
        { initialEntries: [path] },
        createElement(Routes, null, createElement(Route, { path: pattern, Component: Page })),
      ),
    ),
  );
  return { html, text: html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
}

describe('pages render their data', () => {
  it('environment detail: configuration drift with Roll out configuration', () => {
    const drifted = environmentFixture({
      name: 'staging',
      position: 1,
      replicas: 2,
      live: { version: '1.0.0', color: 'blue' },
      config: { version: 3, drifted: 1 },
    });
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
    client.setQueryData(authKeys.me(), { username: 'someone', role: 'deployer' });
    client.setQueryData(environmentKeys.detail('qubot-one', 'staging'), drifted);
    client.setQueryData<List<Environment>>(environmentKeys.list('qubot-one'), {
      items: [drifted],
      nextCursor: null,
    });
    const html = renderToStaticMarkup(
      createElement(
        QueryClientProvider,
        { client },
        createElement(
          MemoryRouter,
          { initialEntries: ['/apps/qubot-one/environments/staging'] },
          createElement(
            Routes,
            null,
            createElement(Route, { path: '/apps/:app/environments/:env', Component: EnvironmentDetailPage }),
          ),
        ),
      ),
    );
    expect(drifted.config).toMatchObject({ version: 3, drift: true, driftedInstances: 1 });
    expect(html).toContain('aria-label="Configuration drift in staging"');
    expect(html).toContain('drift: 1 instance runs an older configuration');
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Roll out configuration<\/button>/);
  });

  it('DORA: figures per environment with trend, and daily charts', () => {
    const { html, text } = render('/apps/qubot-one/dora?days=7', '/apps/:app/dora', DoraPage);
    expect(text).toContain('DORA · qubot-one');
    // Production over 7 days (server's dora-view.ts on the fixture's rollup): 1 success, 1 failure.
    expect(text).toMatch(/production Deployment frequency 1\.0 \/ week \(1\)/);
    expect(text).toContain('1.0 d');
    expect(text).toContain('50 %');
    expect(text).toContain('▲ 50 points vs the 7 days before');
    expect(text).toContain('30 min');
    expect(html).toContain('aria-label="production: 1 successful and 1 failed deployments over 7 days"');
    expect(html).toMatch(/<input[^>]*checked=""[^>]*value="7"/);
    // A lone day's lead time is still drawn (a dot; a path of one point shows nothing).
    expect(html).toMatch(/<circle class="dora-dot"[^>]*cx="200"/);
    expect(html.match(/class="dora-bar--ok"/g)?.length).toBeGreaterThan(7);
  });

  it('deployment detail', () => {
    const { html, text } = render('/deployments/d1', '/deployments/:id', DeploymentDetailPage);
    expect(text).toContain('Promotion of 1.1.0 to staging');
    expect(text).toContain('Step 3 of 7: Traffic 10%');
    expect(text).toContain('Start canary');
    expect(text).toContain('holding until');
    expect(text).toContain('1,200');
    expect(text).toContain('0.50 %');
    expect(text).toContain('Error rate');
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Advance<\/button>/);
    // What the deployment accepts now (core's actions): advance and pause, not resume.
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Pause<\/button>/);
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*>Resume<\/button>/);
  });

  it('deployments list', () => {
    const { text } = render('/deployments', '/deployments', DeploymentsPage);
    expect(text).toContain('1.1.0 from 1.0.0');
    expect(text).toContain('weekly release');
    expect(text).toContain('Load more');
  });

  it('releases and release detail (unsafe links are not rendered)', () => {
    expect(render('/releases', '/releases', ReleasesPage).text).toContain('10 passed, 0 failed');
    const { html, text } = render(
      '/apps/qubot-one/releases/1.1.0',
      '/apps/:app/releases/:version',
      ReleaseDetailPage,
    );
    expect(text).toContain('- faster');
    expect(text).toContain('Deploy 1.1.0');
    expect(html).not.toContain('javascript:');
  });

  it('environment detail', () => {
    const { html, text } = render(
      '/apps/qubot-one/environments/staging',
      '/apps/:app/environments/:env',
      EnvironmentDetailPage,
    );
    expect(html).toContain('aria-label="Environment staging"');
    expect(text).toContain('staging-blue-1');
    expect(text).toContain('Previous 0.9.0');
    expect(text).toContain('weekly release');
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Promote →<\/button>/);
  });
});
