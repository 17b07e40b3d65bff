// The Helm chart deploy/helm/qubot, rendered with its default and its production values by the
// test's own renderer (test/helm-render.ts: Helm is not installed here and cannot be downloaded;
// no cluster can run here either), and every rendered manifest validated against the Kubernetes
// OpenAPI schemas compiled in the npm package kubernetes-models (and the Prometheus Operator's
// CRD schema, @kubernetes-models/prometheus-operator, for the ServiceMonitor). The schemas check
// types, required fields and formats; like the API server without strict field validation, they
// do not reject unknown fields, so the test also checks the fields the control plane relies on.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../apps/api/src/config.ts';
import { createRenderer, type Manifest, TemplateError } from './helm-render.ts';

const CHART = join(import.meta.dirname, '../deploy/helm/qubot');
const renderer = createRenderer(CHART);
const NAMESPACE = 'qubot-system';

const VALUE_SETS = {
  default: renderer.render({ release: 'qubot', namespace: NAMESPACE }),
  production: renderer.render({
    release: 'qubot',
    namespace: NAMESPACE,
    valuesFile: join(CHART, 'values-production.yaml'),
  }),
};

/** The kubernetes-models class of a manifest's apiVersion and kind. */
async function modelOf(m: Manifest): Promise<{ validate(): void }> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const specifier =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${m.kind}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}/${m.kind}`;
  const module = await import(/* @vite-ignore */ specifier);
  const Model = module[m.kind] as new (data: object) => { validate(): void };
  return new Model(m);
}

async function validationError(m: Manifest): Promise<string | null> {
  try {
    (await modelOf(m)).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const find = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} rendered`);
  return m;
};
const envOf = (d: Manifest) =>
  Object.fromEntries(
    (d.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: object }[]).map(
      (e) => [e.name, e.value ?? e.valueFrom],
    ),
  );
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('[DEPLOY] Helm chart rendered by the test renderer (no helm binary here) and validated against the Kubernetes schemas', () => {
  for (const [set, manifests] of Object.entries(VALUE_SETS)) {
    it(`${set} values: every manifest is valid for its apiVersion/kind`, async () => {
      expect(manifests.length).toBeGreaterThan(5);
      for (const m of manifests) {
        expect(await validationError(m), `${m.kind} ${m.metadata.name}`).toBeNull();
        if (m.kind !== 'Role' && m.kind !== 'RoleBinding') expect(m.metadata.namespace).toBe(NAMESPACE);
      }
      // Nothing cluster-scoped: the chart needs no cluster-admin to install, and grants nothing cluster-wide.
      expect(manifests.filter((m) => /^Cluster/.test(m.kind))).toEqual([]);
    });

    it(`${set} values: API and worker Deployments run the roles, ready on /readyz, DATABASE_URL from a Secret`, () => {
      for (const role of ['api', 'worker'] as const) {
        const d = find(manifests, 'Deployment', `qubot-${role}`);
        const c = d.spec.template.spec.containers[0];
        expect(c.args).toEqual(['--role', role]);
        expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
        expect(c.ports).toContainEqual(expect.objectContaining({ name: 'http' }));
        const env = envOf(d);
        expect(env.DATABASE_URL).toEqual({
          secretKeyRef: { name: expect.any(String), key: 'DATABASE_URL' },
        });
        // Listening on all interfaces, on the port the probes and Services use.
        expect(env.HOST).toBe('0.0.0.0');
        expect(env.PORT).toBe(String(c.ports[0].containerPort));
        // Non-root, no privilege escalation, read-only root filesystem (the writable dirs are volumes).
        expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
        expect(d.spec.template.spec.securityContext.runAsUser).toBeGreaterThan(0);
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
        expect(c.volumeMounts.map((v: { mountPath: string }) => v.mountPath).sort()).toEqual([
          '/data',
          '/tmp',
        ]);
        // The selector selects the pod template.
        expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
        // A PodDisruptionBudget covers exactly these pods and leaves room to drain a node.
        const pdb = find(manifests, 'PodDisruptionBudget', `qubot-${role}`);
        expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
        expect(pdb.spec.minAvailable).toBeLessThan(d.spec.replicas);
        // A Service selects them, with the port the ServiceMonitor scrapes.
        const svc = find(manifests, 'Service', `qubot-${role}`);
        expect(matches(svc.spec.selector, d.spec.template.metadata.labels)).toBe(true);
        expect(svc.spec.ports).toContainEqual(expect.objectContaining({ name: 'http', targetPort: 'http' }));
      }
      // The two Deployments' selectors do not overlap.
      const api = find(manifests, 'Deployment', 'qubot-api');
      const worker = find(manifests, 'Deployment', 'qubot-worker');
      expect(matches(api.spec.selector.matchLabels, worker.spec.template.metadata.labels)).toBe(false);
    });

    it(`${set} values: the control plane's own config parser accepts each pod's arguments and environment`, () => {
      for (const role of ['api', 'worker'] as const) {
        const d = find(manifests, 'Deployment', `qubot-${role}`);
        const c = d.spec.template.spec.containers[0];
        // Values from Secrets are stand-ins of the right shape.
        const env = Object.fromEntries(
          Object.entries(envOf(d)).map(([k, v]) => [
            k,
            typeof v === 'string'
              ? v
              : k === 'QUBOT_SECRET_KEY'
                ? Buffer.alloc(32, 1).toString('base64')
                : 'postgresql://qubot:x@db:5432/qubot',
          ]),
        );
        const config = loadConfig(c.args, env);
        expect(config).toMatchObject({ role, host: '0.0.0.0', port: c.ports[0].containerPort });
        expect(config.databaseUrl).toMatch(/^postgresql:/);
        // Prometheus from the pod network may scrape /metrics without a token.
        expect(config.metrics.allow?.length).toBeGreaterThan(0);
      }
    });

    it(`${set} values: a ServiceMonitor scrapes /metrics of both Services`, () => {
      const sm = find(manifests, 'ServiceMonitor', 'qubot');
      expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
      expect(sm.spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
      const scraped = manifests.filter(
        (m) => m.kind === 'Service' && matches(sm.spec.selector.matchLabels, m.metadata.labels ?? {}),
      );
      expect(scraped.map((s) => s.metadata.name).sort()).toEqual(['qubot-api', 'qubot-worker']);
      // /metrics answers the scraper: the pods let the cluster network in (QUBOT_METRICS_ALLOW).
      expect(envOf(find(manifests, 'Deployment', 'qubot-api')).QUBOT_METRICS_ALLOW).toMatch(/\/\d+/);
    });
  }

  it('default values: the chart creates the DATABASE_URL Secret the Deployments read', () => {
    const ms = VALUE_SETS.default;
    const ref = envOf(find(ms, 'Deployment', 'qubot-api')).DATABASE_URL as {
      secretKeyRef: { name: string; key: string };
    };
    const secret = find(ms, 'Secret', ref.secretKeyRef.name);
    expect(Object.keys(secret.stringData)).toEqual([ref.secretKeyRef.key]);
    expect(secret.stringData.DATABASE_URL).toMatch(/^postgresql:\/\//);
    // No RBAC without namespaces to deploy to.
    expect(ms.filter((m) => m.kind === 'Role' || m.kind === 'RoleBinding')).toEqual([]);
  });

  it('production values: existing Secrets, and RBAC in exactly the namespaces it deploys to', () => {
    const ms = VALUE_SETS.production;
    expect(ms.filter((m) => m.kind === 'Secret')).toEqual([]);
    for (const role of ['api', 'worker']) {
      const env = envOf(find(ms, 'Deployment', `qubot-${role}`));
      expect(env.DATABASE_URL).toEqual({ secretKeyRef: { name: 'qubot-database', key: 'DATABASE_URL' } });
      expect(env.QUBOT_SECRET_KEY).toEqual({
        secretKeyRef: { name: 'qubot-secret-key', key: 'QUBOT_SECRET_KEY' },
      });
      expect(env.QUBOT_SECURE_COOKIES).toBe('1');
    }
    expect(find(ms, 'Deployment', 'qubot-api').spec.replicas).toBe(3);
    const roles = ms.filter((m) => m.kind === 'Role');
    const bindings = ms.filter((m) => m.kind === 'RoleBinding');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['shop-production', 'shop-staging']);
    expect(bindings.map((r) => r.metadata.namespace).sort()).toEqual(['shop-production', 'shop-staging']);
    const sa = find(ms, 'ServiceAccount', 'qubot');
    for (const b of bindings) {
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'qubot-deployer',
      });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE }]);
    }
    // Only the workers talk to the Kubernetes API: the API pods mount no service-account token.
    expect(find(ms, 'Deployment', 'qubot-api').spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(find(ms, 'Deployment', 'qubot-worker').spec.template.spec.serviceAccountName).toBe('qubot');
    // No wildcard verbs or resources, no secrets.
    for (const r of roles)
      for (const rule of r.rules) {
        expect(rule.verbs).not.toContain('*');
        expect(rule.resources).not.toContain('*');
        expect(rule.resources).not.toContain('secrets');
      }
  });

  it('the schema validation rejects a broken manifest (the check is not vacuous)', async () => {
    const good = find(VALUE_SETS.default, 'Deployment', 'qubot-api');
    const noSelector = structuredClone(good);
    delete noSelector.spec.selector;
    expect(await validationError(noSelector)).toMatch(/selector/);
    const badReplicas = structuredClone(good);
    badReplicas.spec.replicas = 'two';
    expect(await validationError(badReplicas)).toMatch(/replicas/);
    const pdb = structuredClone(find(VALUE_SETS.default, 'PodDisruptionBudget', 'qubot-api'));
    pdb.spec.selector = 'app=qubot';
    expect(await validationError(pdb)).toMatch(/selector/);
  });

  it('the renderer refuses what it does not implement rather than rendering it empty', () => {
    // A value path missing from values.yaml is an error (Helm would print "<no value>").
    expect(() =>
      createRenderer(CHART).render({
        release: 'qubot',
        namespace: NAMESPACE,
        valuesFile: join(import.meta.dirname, 'fixtures/helm-values-broken.yaml'),
      }),
    ).toThrow(TemplateError);
  });
});
