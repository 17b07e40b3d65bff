// Every response the API writes, byte for byte as Fastify's default serialiser writes it. app.ts
// compiles every route's response schemas with fast-serialiser.ts (scalar unions as type
// arrays); this test builds the real app on a fresh database with the demo data and real API
// actions, wraps the app's serialiser factory (a pass-through recorder: the app still uses the
// real compiler and its output) so that each schema the app compiles is compiled as well by
// Fastify's own default (@fastify/fast-json-stringify-compiler's SerializerSelector, with the
// same shared schemas and options), and each value the server serialises — bodies, error
// envelopes, the pages the view cache writes with `reply.serialize` — is written by both and
// compared. Then it calls every GET route.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { buildTestApp } from '../../../../test/app.ts';

type RouteDef = {
  schema?: unknown;
  method?: string;
  url?: string;
  httpStatus?: string;
  contentType?: string;
};
type Compiled = { key: string; method: string; values: number; mismatches: string[] };

const rec = vi.hoisted(() => ({ compiled: [] as Compiled[] }));

vi.mock('./fast-serialiser.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./fast-serialiser.ts')>();
  // Fastify's default serializer factory, the one Fastify's schema controller would use.
  const SerializerSelector = createRequire(import.meta.resolve('fastify'))(
    '@fastify/fast-json-stringify-compiler',
  ) as () => (external: unknown, opts: unknown) => (route: RouteDef) => (v: unknown) => string;
  const attempt = (f: (v: unknown) => string, v: unknown) => {
    try {
      return { out: f(v) };
    } catch (err) {
      return { err: err as Error };
    }
  };
  const buildSerialiser: typeof real.buildSerialiser = (externalSchemas, serializerOpts) => {
    const ours = real.buildSerialiser(externalSchemas, serializerOpts);
    const fastify = SerializerSelector()(externalSchemas, serializerOpts);
    return (route: RouteDef) => {
      const serialise = ours(route);
      const reference = fastify(route);
      const entry: Compiled = {
        key: `${route.method} ${route.url} ${route.httpStatus}${route.contentType ? ` ${route.contentType}` : ''}`,
        method: String(route.method),
        values: 0,
        mismatches: [],
      };
      rec.compiled.push(entry);
      return (value: unknown) => {
        const a = attempt(serialise, value);
        const b = attempt(reference, value);
        entry.values++;
        if (a.out !== b.out || String(a.err) !== String(b.err))
          entry.mismatches.push(`ours ${a.out ?? a.err} / Fastify's ${b.out ?? b.err}`);
        if (a.err) throw a.err;
        return a.out as string;
      };
    };
  };
  return { ...real, buildSerialiser };
});

let t: Awaited<ReturnType<typeof buildTestApp>>;
beforeAll(async () => {
  t = await buildTestApp({ app: { demo: true } });
});
afterAll(async () => {
  await t.close();
});

// The query a GET route requires.
const QUERIES: Record<string, string> = {
  '/api/v1/apps/{app}/environments/{env}/config/diff': '?from=1&to=1',
  '/api/v1/apps/{app}/config/diff': '?from=staging&to=production',
  '/api/v1/apps/{app}/parity': '?from=staging&to=production',
};

type Doc = { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

it('[API] every route with a response schema writes the same bytes as Fastify’s default serialiser (the compiler wrapped to record)', {
  timeout: 120_000,
}, async () => {
  const admin = await t.as('admin');
  const call = (method: string, url: string, payload?: object, headers: Record<string, string> = admin) =>
    t.app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) });
  const ok = async (method: string, url: string, payload: object, status: number) => {
    const res = await call(method, `/api/v1${url}`, payload);
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
    return res.json();
  };
  // Real actions: each answers through its route's schema and leaves rows the reads show.
  const user = await ok('POST', '/users', { username: 'carol', role: 'deployer' }, 201);
  await ok('POST', '/tokens', { name: 'ci', role: 'deployer', applications: ['qubot-one'] }, 201);
  const enrolment = await ok('POST', '/hosts/enrolment-tokens', { name: 'rack-1' }, 201);
  const host = await ok(
    'POST',
    '/agent/enrol',
    { token: enrolment.secret, name: 'rack-1.example', address: '10.77.0.2', agentVersion: '0.1.0' },
    201,
  );
  await ok('PUT', '/settings/webhooks', { allowPrivateTargets: true, reason: 'a local receiver' }, 200);
  const hook = await ok(
    'POST',
    '/apps/qubot-one/webhooks',
    { name: 'ci', url: 'http://127.0.0.1:9/hook', events: ['release.created'] },
    201,
  );
  await ok(
    'POST',
    '/apps/qubot-one/releases',
    { version: '4.0.0', artifact: 'builds/4.0.0', commit: 'c0ffee', changelog: 'fix "quotes"\nand ünïcode' },
    201,
  );
  await ok(
    'POST',
    '/apps/qubot-one/environments/production/freeze-windows',
    { reason: 'holidays', startsAt: '2030-12-24T00:00:00.000Z', endsAt: '2030-12-27T00:00:00.000Z' },
    201,
  );
  await ok(
    'PUT',
    '/apps/qubot-one/environments/development/policy',
    { mode: 'auto', strategy: 'rolling' },
    200,
  );
  await ok(
    'PUT',
    '/apps/qubot-one/environments/staging/config',
    {
      entries: [
        { key: 'LOG_LEVEL', value: 'debug' },
        { key: 'API_KEY', value: 's3cr3t', secret: true },
      ],
    },
    201,
  );
  const deployment = await ok(
    'POST',
    '/apps/qubot-one/environments/development/deployments',
    { version: '1.1.0', strategy: 'canary', reason: 'weekly "release"' },
    202,
  );
  // A few more actions, cheap ones, for their answers' schemas.
  await ok('PATCH', `/users/${user.user.id}`, { displayName: 'Carol "C" Ünïcode' }, 200);
  await ok('PATCH', `/apps/qubot-one/webhooks/${hook.id}`, { enabled: false }, 200);
  await ok('POST', '/apps/qubot-one/environments/development/policy/pause', { reason: 'a freeze' }, 200);
  await ok('POST', '/apps/qubot-one/environments/development/policy/resume', {}, 200);
  await ok('POST', `/deployments/${deployment.id}/abort`, { reason: 'superseded' }, 200);
  // Errors go through the routes' error schemas too.
  expect((await call('GET', '/api/v1/users', undefined, {})).statusCode).toBe(401);
  expect((await call('GET', '/api/v1/deployments?limit=0')).statusCode).toBe(400);

  // Every GET route, its parameters filled with what exists (the `id` is the one of the path's
  // first segment); an id that matches nothing answers a 404 envelope.
  const none = '00000000-0000-4000-8000-000000000000';
  const ids: [RegExp, string][] = [
    [/^\/api\/v1\/deployments\//, deployment.id],
    [/^\/api\/v1\/hosts\//, host.hostId],
    [/\/webhooks\//, hook.id],
  ];
  const params: Record<string, string> = { app: 'qubot-one', env: 'staging', version: '1.1.0', runId: none };
  const doc = t.app.swagger() as unknown as Doc;
  const answered: Record<string, number> = {};
  const notJson: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (!methods.get) continue;
    const url = path
      .replace('{id}', ids.find(([re]) => re.test(path))?.[1] ?? none)
      .replace(/\{([A-Za-z]+)\}/g, (_, p: string) => params[p] ?? p)
      .replace(/\/config\/versions\/1\.1\.0$/, '/config/versions/1')
      .concat(QUERIES[path] ?? '');
    const res = await call('GET', url);
    answered[path] = res.statusCode;
    if (!String(res.headers['content-type']).startsWith('application/json')) notJson.push(path);
  }

  // 1. Every route and status with a response schema was compiled by the app's serialiser (a
  // route left with Fastify's default, or its own, would be missing here).
  const declared = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).flatMap(([m, op]) =>
      Object.keys(op.responses ?? {}).map((status) => `${m.toUpperCase()} ${path} ${status}`),
    ),
  );
  const compiled = rec.compiled.filter((c) => c.method !== 'HEAD');
  const compiledKeys = compiled.map((c) => {
    const [m, url, status] = c.key.split(' ');
    return `${m} ${openApiPath(url as string)} ${status}`;
  });
  expect(declared.length).toBeGreaterThan(300);
  expect([...new Set(compiledKeys)].sort()).toEqual([...new Set(declared)].sort());
  expect(compiled.length).toBe(declared.length);

  // 2. Not one value written differently.
  const mismatches = rec.compiled.flatMap((c) => c.mismatches.map((m) => `${c.key}: ${m}`));
  expect(mismatches).toEqual([]);

  // 3. Every GET route answered through its schemas: values were serialised for each.
  const written = new Map<string, number>();
  for (const c of compiled) {
    const [m, url] = c.key.split(' ');
    const k = `${m} ${openApiPath(url as string)}`;
    written.set(k, (written.get(k) ?? 0) + c.values);
  }
  const silent = Object.keys(answered).filter((path) => !written.get(`GET ${path}`));
  expect(silent).toEqual(notJson);
  expect(notJson).toEqual(['/api/v1/audit.csv']);
  // All answered 2xx but those whose object needs a real backup or running processes.
  expect(Object.keys(answered).filter((path) => (answered[path] as number) >= 300)).toEqual([
    '/api/v1/backups/{id}',
    '/api/v1/deployments/{id}/hooks/{runId}/logs',
    '/api/v1/apps/{app}/environments/{env}/instances/{id}/logs',
  ]);
  expect(Object.keys(answered).length).toBeGreaterThan(45);
});
