import type { Application, Deployment, Environment, List, Release } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ComponentType, createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter, Route, Routes } from 'react-router';
import { describe, expect, it } from 'vitest';
import { applicationKeys } from '../hooks/api/applications/queries';
import { authKeys } from '../hooks/api/auth/queries';
import { deploymentKeys } from '../hooks/api/deployments/queries';
import { environmentKeys } from '../hooks/api/environments/queries';
import { releaseKeys } from '../hooks/api/releases/queries';
import { DeploymentDetailPage } from './deployments/deployment-detail-page';
import { DeploymentsPage } from './deployments/deployments-page';
import { progressFixture } from './deployments/progress-fixture';
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

const deployment: Deployment = {
  id: 'd1',
  application: 'qubot-one',
  environment: 'staging',
  release: { version: '1.1.0', artifact: 'builds/1.1.0' },
  fromVersion: '1.0.0',
  configVersion: null,
  kind: 'promote',
  strategy: 'canary',
  status: 'paused',
  waitingFor: 'advance',
  options: {},
  steps: [
    {
      position: 1,
      name: 'Start canary',
      status: 'succeeded',
      message: null,
      startedAt: '2025-01-01T00:00:00Z',
      finishedAt: '2025-01-01T00:00:05Z',
    },
    {
      position: 2,
      name: 'Shift 25 %',
      status: 'running',
      message: 'holding',
      startedAt: '2025-01-01T00:00:05Z',
      finishedAt: null,
    },
    { position: 3, name: 'Shift 100 %', status: 'pending', message: null, startedAt: null, finishedAt: null },
  ],
  progress: progressFixture('1.1.0', { currentStep: 1, totalSteps: 3, weights: { blue: 75, green: 25 } }),
  analysis: [
    {
      step: 'weight-25',
      pool: 'green',
      metric: 'errorRate',
      value: 0.3,
      threshold: 1,
      bound: 'max',
      verdict: 'passed',
      passed: true,
      samples: 40,
      minSamples: 20,
      baseline: 0.1,
      at: '2025-01-01T00:00:04Z',
      since: Date.parse('2025-01-01T00:00:00Z'),
      until: Date.parse('2025-01-01T00:00:04Z'),
    },
  ],
  traffic: { requests: 1200, failed: 6 },
  reason: 'weekly release',
  actor: 'alice',
  error: null,
  createdAt: '2025-01-01T00:00:00Z',
  startedAt: '2025-01-01T00:00:00Z',
  finishedAt: null,
};

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

const staging: Environment = {
  name: 'staging',
  position: 1,
  protected: false,
  requiresApproval: false,
  address: 'http://127.0.0.1:9101',
  live: { version: '1.0.0' },
  previous: { version: '0.9.0' },
  activeColor: 'blue',
  traffic: [{ pool: 'blue', version: '1.0.0', weight: 100 }],
  instances: [
    {
      id: 'i-1',
      pool: 'blue',
      version: '1.0.0',
      status: 'running',
      healthy: true,
      port: 9201,
      restarts: 0,
      startedAt: '2025-01-01T00:00:00Z',
    },
  ],
  activeDeployment: null,
  replicas: 1,
  updatedAt: '2025-01-01T00:00:00Z',
};

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
  it('deployment detail', () => {
    const { html, text } = render('/deployments/d1', '/deployments/:id', DeploymentDetailPage);
    expect(text).toContain('Promotion of 1.1.0 to staging');
    expect(text).toContain('Waiting for a deployer, release-manager or admin to advance to the next step');
    expect(text).toContain('Start canary');
    expect(text).toContain('holding');
    expect(text).toContain('1,200');
    expect(text).toContain('0.50 %');
    expect(text).toContain('Error rate');
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Advance<\/button>/);
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*>Pause<\/button>/);
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
    expect(text).toContain('i-1');
    expect(text).toContain('Previous 0.9.0');
    expect(text).toContain('weekly release');
    expect(html).toMatch(/<button(?![^>]*disabled)[^>]*>Promote →<\/button>/);
  });
});
