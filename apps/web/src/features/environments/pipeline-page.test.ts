import type { Application, Environment, List } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import {
  type EnvironmentFixture,
  environmentFixture,
  type Sim,
} from '../../../../api/src/views/view-fixtures.ts';
import { applicationKeys } from '../../hooks/api/applications/queries';
import { authKeys } from '../../hooks/api/auth/queries';
import { environmentKeys } from '../../hooks/api/environments/queries';
import { PipelinePage } from './pipeline-page';

// Server rendering needs no DOM: enough to check what the pipeline puts on screen for given data.

const app: Application = {
  id: 'a1',
  name: 'qubot-one',
  description: null,
  environments: ['development', 'staging', 'production'],
  createdAt: '2025-01-01T00:00:00Z',
};

/**
 * An environment as the server sends it (views.ts over a real core state): 1.0.0 live on blue with
 * two replicas unless `f` says otherwise; `overrides` as a later view changes it.
 */
function env(
  name: string,
  position: number,
  f: EnvironmentFixture = {},
  overrides: Partial<Environment> = {},
): Environment {
  return { ...environmentFixture({ name, position, ...f }), ...overrides };
}
const started = (sim: Sim) => sim.start().run({ timers: false });

function render(environments: Environment[] | null, role = 'release-manager') {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), { username: 'someone', role });
  client.setQueryData<List<Application>>(applicationKeys.list(), { items: [app], nextCursor: null });
  if (environments) {
    client.setQueryData<List<Environment>>(environmentKeys.list('qubot-one'), {
      items: environments,
      nextCursor: null,
    });
  }
  return renderToStaticMarkup(
    createElement(
      QueryClientProvider,
      { client },
      createElement(MemoryRouter, { initialEntries: ['/'] }, createElement(PipelinePage)),
    ),
  );
}

/** The markup of one environment card. */
function card(html: string, name: string): string {
  const start = html.indexOf(`aria-label="Environment ${name}"`);
  expect(start).toBeGreaterThan(-1);
  const next = html.indexOf('aria-label="Environment ', start + 10);
  return html.slice(start, next === -1 ? undefined : next);
}

const text = (html: string) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');

describe('PipelinePage', () => {
  it('shows one labelled card per environment in pipeline order', () => {
    const html = render([
      env('development', 0, { live: { version: '1.1.0', color: 'blue' } }),
      env('staging', 1),
      env('production', 2, {
        protected: true,
        // A canary held at its first step until a person advances it.
        active: {
          id: 'd1',
          input: { strategy: 'canary', version: '1.1.0', options: { stepDurationSeconds: 'manual' } },
          drive: started,
        },
      }),
    ]);
    const order = ['development', 'staging', 'production'].map((n) => html.indexOf(`Environment ${n}"`));
    expect(order).toEqual([...order].sort((a, b) => a - b));

    const dev = card(html, 'development');
    expect(dev).toMatch(
      /<h2[^>]*><a[^>]*href="\/apps\/qubot-one\/environments\/development"[^>]*>development<\/a><\/h2>/,
    );
    expect(text(dev)).toContain('Live 1.1.0');
    expect(text(dev)).toContain('2/2 healthy');
    expect(text(dev)).toContain('blue 1.1.0 100 %');
    expect(dev).toContain('href="http://127.0.0.1:40000"');
    expect(dev).not.toContain('protected</span>');
    // Promote is the first button and is disabled on the first environment.
    expect(dev).toMatch(/<button[^>]*disabled=""[^>]*>Promote →<\/button>/);

    const staging = card(html, 'staging');
    expect(staging).toMatch(/<button(?![^>]*disabled)[^>]*>Promote →<\/button>/);
    expect(text(staging)).toContain('No active deployment');

    const prod = card(html, 'production');
    expect(prod).toContain('protected</span>');
    expect(text(prod)).toContain('blue 1.0.0 90 %');
    expect(text(prod)).toContain('green 1.1.0 10 %');
    // Waiting for a person: who, instead of a percentage; instances and traffic on the new release.
    expect(text(prod)).toContain('Waiting for a release-manager or admin to advance to the next step');
    expect(text(prod)).toContain('Step 3 of 7');
    expect(text(prod)).toContain('1/2 instances ready');
    expect(text(prod)).toContain('10 % traffic on new');
    expect(prod).not.toContain('aria-label="Deployment progress');
    expect(prod).toContain('href="/deployments/d1"');
    // A canary waiting to advance: the server would answer 409 to promote and to a traffic change,
    // but rolls the deployment back.
    expect(prod).toMatch(
      /<button[^>]*disabled=""[^>]*title="A deployment is in progress[^"]*"[^>]*>Promote →<\/button>/,
    );
    expect(prod).toMatch(
      /<button[^>]*disabled=""[^>]*title="A deployment is in progress[^"]*"[^>]*>Switch traffic<\/button>/,
    );
    expect(prod).toMatch(/<button(?![^>]*disabled)[^>]*>Roll back deployment<\/button>/);
  });

  it('shows a running rollout on its card: 1-based step, progress bar, instances and traffic', () => {
    const html = render([
      env('development', 0),
      env('staging', 1, {
        active: { id: 'd5', input: { strategy: 'canary', version: '1.1.0' }, drive: started },
      }),
    ]);
    const staging = card(html, 'staging');
    expect(text(staging)).toContain('Step 3 of 7');
    // Without the deployment's steps loaded yet, the card reads the progress alone: 2 of 7 done.
    expect(staging).toMatch(/<progress[^>]*value="28"[^>]*aria-label="Deployment progress 28 %"/);
    expect(text(staging)).toContain('1/2 instances ready');
    expect(text(staging)).toContain('10 % traffic on new');
    expect(staging).toContain('href="/deployments/d5"');
  });

  it('offers Switch traffic while a blue-green deployment waits for its switch', () => {
    const html = render([
      env('development', 0),
      env('staging', 1, {
        active: {
          id: 'd2',
          input: { strategy: 'blue-green', version: '1.1.0', options: { autoSwitch: false } },
          drive: started,
        },
      }),
    ]);
    const staging = card(html, 'staging');
    expect(staging).toMatch(/<button(?![^>]*disabled)[^>]*>Switch traffic<\/button>/);
    expect(staging).toMatch(/<button[^>]*disabled=""[^>]*>Promote →<\/button>/);
    expect(text(staging)).toContain('Waiting for traffic switch by a release-manager or admin');
    expect(text(staging)).toContain('2/2 instances ready');
    expect(text(staging)).toContain('0 % traffic on new');
  });

  it('shows a deployment that just ended by its outcome, not the percentage it stopped at', () => {
    // A summary read just before the environment's next view drops it: status already final.
    const running = env('development', 0, {
      active: { id: 'd3', input: { strategy: 'canary', version: '1.1.0' }, drive: started },
    }).activeDeployment;
    if (!running) throw new Error('not in progress');
    const html = render([
      env('development', 0, {}, { activeDeployment: { ...running, status: 'rolled_back', actions: [] } }),
    ]);
    const dev = card(html, 'development');
    expect(dev).toMatch(/<p class="outcome outcome--warn">Rolled back<\/p>/);
    expect(dev).not.toContain('<progress');
    expect(text(dev)).not.toContain('28 %');
  });

  it('disables every action for a viewer, saying which role it needs', () => {
    const html = render(
      [
        env('development', 0, { live: { version: '1.1.0', color: 'blue' } }),
        env('production', 1, { protected: true }),
      ],
      'viewer',
    );
    const buttons = [...html.matchAll(/<button[^>]*>/g)].map((m) => m[0]);
    // Promote, Switch traffic, Rollback and Deploy… on each card.
    expect(buttons.length).toBe(8);
    for (const b of buttons) expect(b).toContain('disabled=""');
    expect(card(html, 'production')).toMatch(
      /<button[^>]*title="Needs release-manager \(you are viewer\)\."[^>]*>Promote →<\/button>/,
    );
  });

  it('names the missing role rather than the deployment in progress, which would only delay it', () => {
    const html = render(
      [
        env('development', 0, { live: { version: '1.1.0', color: 'blue' } }),
        env('production', 1, {
          protected: true,
          requiresApproval: true,
          active: { id: 'd4', input: { strategy: 'blue-green', version: '1.1.0' }, drive: started },
        }),
      ],
      'viewer',
    );
    const prod = card(html, 'production');
    for (const name of ['Promote →', 'Switch traffic', 'Roll back deployment'])
      expect(prod).toMatch(
        new RegExp(
          `<button[^>]*disabled=""[^>]*title="Needs release-manager \\(you are viewer\\)\\."[^>]*>${name}</button>`,
        ),
      );
    // The first environment is never promoted to, whatever the role.
    expect(card(html, 'development')).toMatch(
      /<button[^>]*title="The first environment[^"]*"[^>]*>Promote →<\/button>/,
    );
  });

  it('disables switching without a colour and rollback without a live release', () => {
    const html = render([env('development', 0, { live: null })]);
    const dev = card(html, 'development');
    expect(text(dev)).toContain('Nothing live');
    expect(text(dev)).toContain('No traffic is being served');
    expect(text(dev)).toContain('0/0 healthy');
    expect(dev).toMatch(/<button[^>]*disabled=""[^>]*>Switch traffic<\/button>/);
    expect(dev).toMatch(/<button[^>]*disabled=""[^>]*>Rollback<\/button>/);
  });

  it('shows loading while environments are fetched and an empty state when there are none', () => {
    expect(text(render(null))).toContain('Loading environments…');
    expect(text(render([]))).toContain('This application has no environments yet');
  });
});
