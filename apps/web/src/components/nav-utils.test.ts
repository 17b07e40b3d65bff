import { describe, expect, it } from 'vitest';
import { sectionOf } from './nav-utils';

describe('sectionOf', () => {
  it('maps every page to its nav item', () => {
    expect(sectionOf('/')).toBe('pipeline');
    expect(sectionOf('/apps/qubot-one')).toBe('pipeline');
    expect(sectionOf('/apps/qubot-one/environments/staging')).toBe('pipeline');
    expect(sectionOf('/releases')).toBe('releases');
    expect(sectionOf('/apps/qubot-one/releases/1.0.0')).toBe('releases');
    expect(sectionOf('/deployments/abc')).toBe('deployments');
    expect(sectionOf('/dora')).toBe('dora');
    expect(sectionOf('/apps/qubot-one/dora')).toBe('dora');
    expect(sectionOf('/webhooks')).toBe('webhooks');
    expect(sectionOf('/apps/qubot-one/webhooks')).toBe('webhooks');
    expect(sectionOf('/audit')).toBe('audit');
    expect(sectionOf('/settings')).toBe('settings');
    expect(sectionOf('/login')).toBeNull();
  });
});
