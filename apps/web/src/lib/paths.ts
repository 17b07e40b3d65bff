const enc = encodeURIComponent;

/** Every in-app link is built here, so routes can move without hunting for strings. */
export const paths = {
  pipeline: (app?: string) => (app ? `/apps/${enc(app)}` : '/'),
  environment: (app: string, env: string) => `/apps/${enc(app)}/environments/${enc(env)}`,
  releases: (app?: string) => (app ? `/apps/${enc(app)}/releases` : '/releases'),
  release: (app: string, version: string) => `/apps/${enc(app)}/releases/${enc(version)}`,
  deployments: (filters: { app?: string; env?: string; status?: string } = {}) => {
    const qs = new URLSearchParams(
      Object.entries(filters).filter(([, v]) => Boolean(v)) as [string, string][],
    );
    const s = qs.toString();
    return s ? `/deployments?${s}` : '/deployments';
  },
  deployment: (id: string) => `/deployments/${enc(id)}`,
  parity: (app: string, from?: string, to?: string) =>
    `/apps/${enc(app)}/parity${from && to ? `?from=${enc(from)}&to=${enc(to)}` : ''}`,
  dora: (app?: string) => (app ? `/apps/${enc(app)}/dora` : '/dora'),
  webhooks: (app?: string) => (app ? `/apps/${enc(app)}/webhooks` : '/webhooks'),
  audit: () => '/audit',
  settings: () => '/settings',
  hosts: () => '/hosts',
  login: (next?: string) => (next ? `/login?next=${enc(next)}` : '/login'),
};
