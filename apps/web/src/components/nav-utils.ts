export type Section =
  | 'pipeline'
  | 'releases'
  | 'deployments'
  | 'dora'
  | 'webhooks'
  | 'hosts'
  | 'audit'
  | 'settings'
  | null;

/** Which nav item a URL belongs to; `/apps/x/environments/y` is part of the pipeline. */
export function sectionOf(pathname: string): Section {
  if (pathname === '/' || /^\/apps\/[^/]+(\/environments(\/.*)?)?\/?$/.test(pathname)) return 'pipeline';
  if (pathname.startsWith('/releases') || /^\/apps\/[^/]+\/releases/.test(pathname)) return 'releases';
  if (pathname.startsWith('/deployments')) return 'deployments';
  if (pathname.startsWith('/dora') || /^\/apps\/[^/]+\/dora/.test(pathname)) return 'dora';
  if (pathname.startsWith('/webhooks') || /^\/apps\/[^/]+\/webhooks/.test(pathname)) return 'webhooks';
  if (pathname.startsWith('/hosts')) return 'hosts';
  if (pathname.startsWith('/audit')) return 'audit';
  if (pathname.startsWith('/settings')) return 'settings';
  return null;
}
