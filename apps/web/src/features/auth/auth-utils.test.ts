import { describe, expect, it } from 'vitest';
import { safeNext, signInPath } from './auth-utils';

describe('[AUTH] where sign-in returns to', () => {
  it('keeps paths of this site, with their query and fragment', () => {
    expect(safeNext('/deployments/abc')).toBe('/deployments/abc');
    expect(safeNext('/deployments?app=qubot-one&status=running#top')).toBe(
      '/deployments?app=qubot-one&status=running#top',
    );
    expect(safeNext('/apps/qubot-one/environments/staging')).toBe('/apps/qubot-one/environments/staging');
  });

  it('refuses anything that could leave the site, or loop back to sign-in', () => {
    for (const next of [
      null,
      undefined,
      '',
      'deployments',
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '/\t/evil.example',
      'javascript:alert(1)',
      '/login',
      '/login?next=/audit',
    ])
      expect(safeNext(next), String(next)).toBe('/');
  });

  it('builds the sign-in address that returns to the current page', () => {
    expect(signInPath({ pathname: '/deployments/abc', search: '', hash: '' })).toBe(
      '/login?next=%2Fdeployments%2Fabc',
    );
    expect(signInPath({ pathname: '/audit', search: '?actor=admin', hash: '' })).toBe(
      '/login?next=%2Faudit%3Factor%3Dadmin',
    );
    expect(signInPath({ pathname: '/', search: '', hash: '' })).toBe('/login');
    expect(
      safeNext(decodeURIComponent(signInPath({ pathname: '/releases', search: '', hash: '' }).slice(12))),
    ).toBe('/releases');
  });
});
