import type { Deployment, Environment } from '@qubot/api-contract';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { deploymentFixture, environmentFixture } from '../../../../api/src/views/view-fixtures.ts';
import { authKeys } from '../../hooks/api/auth/queries';
import { environmentKeys } from '../../hooks/api/environments/queries';
import { confirmationOf, DeploymentControls } from './deployment-controls';

// Alice's deployment to a protected production that requires approval, as the server sends it.
const waiting: Deployment = deploymentFixture({
  application: 'qubot-sec',
  environment: 'production',
  actor: 'alice',
  input: {
    strategy: 'blue-green',
    version: '1.1.0',
    fromVersion: '1.0.0',
    protected: true,
    requiresApproval: true,
  },
  drive: (sim) => sim.start().run({ timers: false }),
});

function render(me: { username: string; role: string }, deployment: Deployment = waiting) {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Number.POSITIVE_INFINITY } } });
  client.setQueryData(authKeys.me(), me);
  client.setQueryData<Environment>(
    environmentKeys.detail('qubot-sec', 'production'),
    environmentFixture({ name: 'production', position: 2, protected: true, requiresApproval: true }),
  );
  return renderToStaticMarkup(
    createElement(
      QueryClientProvider,
      { client },
      createElement(MemoryRouter, null, createElement(DeploymentControls, { deployment })),
    ),
  );
}

const buttons = (html: string) =>
  [...html.matchAll(/<button[^>]*?(disabled="")?[^>]*>([^<]+)<\/button>/g)].map((m) => ({
    label: m[2],
    disabled: m[0].includes('disabled'),
  }));

describe('deployment controls', () => {
  it('the fixture waits for approval, and the deployment says Approve is what it accepts', () => {
    expect([waiting.status, waiting.waitingFor]).toEqual(['paused', 'approval']);
    expect(waiting.actions).toContain('approve');
  });

  it('shows Approve to a second release-manager, and never to the requester', () => {
    expect(buttons(render({ username: 'bob', role: 'release-manager' }))).toContainEqual({
      label: 'Approve',
      disabled: false,
    });
    const own = render({ username: 'alice', role: 'release-manager' });
    expect(buttons(own).map((b) => b.label)).not.toContain('Approve');
    expect(own).toContain('a second person (release-manager or admin) must approve it');
  });

  it('leaves a viewer and a deployer on a protected environment nothing to press', () => {
    for (const role of ['viewer', 'deployer']) {
      const html = render({ username: 'carol', role });
      const all = buttons(html);
      expect(all.length, role).toBeGreaterThan(0);
      expect(
        all.every((b) => b.disabled),
        `${role}: ${JSON.stringify(all)}`,
      ).toBe(true);
      expect(all.map((b) => b.label)).not.toContain('Approve');
    }
  });
});

describe('confirmationOf (as the server requires reasons)', () => {
  it('an advance that switches traffic needs a reason on any environment', () => {
    expect(confirmationOf('advance', false, 'switch')).toEqual({ confirm: true, reasonRequired: true });
    expect(confirmationOf('advance', false, 'advance')).toEqual({ confirm: true, reasonRequired: false });
  });
  it('a protected environment needs one for all but approve; pause needs none elsewhere', () => {
    expect(confirmationOf('resume', true).reasonRequired).toBe(true);
    expect(confirmationOf('approve', true).reasonRequired).toBe(false);
    expect(confirmationOf('pause', false)).toEqual({ confirm: false, reasonRequired: false });
  });
});
