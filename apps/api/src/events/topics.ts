import type { ApplicationRepo, DeploymentRepo, EnvironmentRepo } from '@qubot/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A subscribed topic after its names were looked up. */
export interface ResolvedTopic {
  kind: 'application' | 'environment' | 'deployment' | 'hosts';
  id: string;
  /** Canonical form, `<kind>:<id>`. */
  topic: string;
  /** The application it belongs to: what authorization is checked against. */
  application: { id: string; name: string };
}

export type TopicResolution = { ok: true; topic: ResolvedTopic } | { ok: false; message: string };

/** Turns `application:qubot-one`, `environment:qubot-one/staging` or `<kind>:<uuid>` into ids. */
export function createTopicResolver(deps: {
  applications: Pick<ApplicationRepo, 'findTopicRef'>;
  environments: Pick<EnvironmentRepo, 'findTopicRef' | 'findTopicRefByName'>;
  deployments: Pick<DeploymentRepo, 'findTopicRef'>;
}) {
  const unknown = (topic: string): TopicResolution => ({ ok: false, message: `unknown topic ${topic}` });

  return async function resolve(topic: string): Promise<TopicResolution> {
    // The fleet (admins): `host.updated` events, which belong to no application.
    if (topic === 'hosts')
      return {
        ok: true,
        topic: { kind: 'hosts', id: 'hosts', topic: 'hosts', application: { id: '', name: '' } },
      };
    const colon = topic.indexOf(':');
    const kind = topic.slice(0, colon);
    const ref = topic.slice(colon + 1);
    if (colon < 0 || !ref) {
      return {
        ok: false,
        message: `topic ${JSON.stringify(topic)} must look like application:<name>, environment:<app>/<env> or deployment:<id>`,
      };
    }
    const ok = (k: ResolvedTopic['kind'], id: string, application: { id: string; name: string }) =>
      ({ ok: true, topic: { kind: k, id, topic: `${k}:${id}`, application } }) as const;

    if (kind === 'application') {
      const where = UUID.test(ref) ? { id: ref.toLowerCase() } : NAME.test(ref) ? { name: ref } : null;
      const found = where && (await deps.applications.findTopicRef(where));
      return found ? ok('application', found.id, found) : unknown(topic);
    }
    if (kind === 'environment') {
      let found: { id: string; application: { id: string; name: string } } | null = null;
      if (UUID.test(ref)) {
        found = await deps.environments.findTopicRef(ref.toLowerCase());
      } else {
        const [appName, envName, ...rest] = ref.split('/');
        if (appName && envName && rest.length === 0 && NAME.test(appName) && NAME.test(envName)) {
          found = await deps.environments.findTopicRefByName(appName, envName);
        }
      }
      return found ? ok('environment', found.id, found.application) : unknown(topic);
    }
    if (kind === 'deployment') {
      const found = UUID.test(ref) ? await deps.deployments.findTopicRef(ref.toLowerCase()) : null;
      return found ? ok('deployment', found.id, found.application) : unknown(topic);
    }
    return {
      ok: false,
      message: `unknown topic kind ${JSON.stringify(kind)}: use application, environment or deployment`,
    };
  };
}
export type TopicResolver = ReturnType<typeof createTopicResolver>;

/**
 * Names for the `topics` of outgoing events, so a client that subscribed by name sees the
 * same names and the web cache can key by them. Applications and environments are few and
 * not renamed; they are cached for the life of the process.
 */
export function createTopicNames(deps: {
  applications: Pick<ApplicationRepo, 'names'>;
  environments: Pick<EnvironmentRepo, 'names'>;
}) {
  const apps = new Map<string, string>();
  const envs = new Map<string, string>();

  return {
    async load(rows: { application_id: string | null; environment_id: string | null }[]): Promise<void> {
      const appIds = new Set<string>();
      const envIds = new Set<string>();
      for (const r of rows) {
        if (r.application_id && !apps.has(r.application_id)) appIds.add(r.application_id);
        if (r.environment_id && !envs.has(r.environment_id)) envIds.add(r.environment_id);
      }
      if (envIds.size) {
        const found = await deps.environments.names([...envIds]);
        for (const e of found) {
          envs.set(e.id, `${e.application.name}/${e.name}`);
          apps.set(e.application.id, e.application.name);
          appIds.delete(e.application.id);
        }
      }
      if (appIds.size) {
        const found = await deps.applications.names([...appIds]);
        for (const a of found) apps.set(a.id, a.name);
      }
    },

    topicsOf(
      applicationId: string | null,
      environmentId: string | null,
      deploymentId: string | null,
    ): string[] {
      const topics: string[] = [];
      if (applicationId) {
        topics.push(`application:${applicationId}`);
        const name = apps.get(applicationId);
        if (name) topics.push(`application:${name}`);
      }
      if (environmentId) {
        topics.push(`environment:${environmentId}`);
        const name = envs.get(environmentId);
        if (name) topics.push(`environment:${name}`);
      }
      if (deploymentId) topics.push(`deployment:${deploymentId}`);
      return topics;
    },
  };
}
export type TopicNames = ReturnType<typeof createTopicNames>;
