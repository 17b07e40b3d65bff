// An emulated Kubernetes API server, for tests only: no real one can run on these machines (no
// container engine, no kubelet). It speaks the real REST paths and semantics the Kubernetes driver
// relies on — apps/v1 Deployments (+ scale), v1 Services, v1 Pods (status, log), optionally
// gateway.networking.k8s.io/v1 HTTPRoutes; server-side apply with field managers and conflicts,
// label selectors, resourceVersion on every object, watches that resume from a resourceVersion and
// answer 410 Gone (an ERROR event, as the real one does) once it is compacted away. Its
// "controller and kubelet" are real too: a Deployment's pods are real processes (the container's
// image mapped to a command by `runContainer`) on their own loopback address, moving Pending →
// Running → Ready by a real HTTP readiness probe; a Service (and an HTTPRoute) is served by a real
// HTTP proxy on its own loopback address to the Ready pods its selector matches.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

type Obj = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};
interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string }[];
  managedFields?: { manager: string; operation: string; fieldsV1: Record<string, unknown> }[];
  [k: string]: unknown;
}

interface ResourceDef {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  subresources: string[];
}

const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', subresources: ['status', 'log'] },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', subresources: ['status'] },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    subresources: ['status', 'scale'],
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    subresources: [],
  },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    kind: 'HTTPRoute',
    subresources: ['status'],
  },
];

/** What the kubelet runs for a container: a real process, on the pod's own loopback address. */
export type ContainerRunner = (c: {
  pod: string;
  podIP: string;
  image: string;
  port: number;
  env: Record<string, string>;
  args: string[];
}) => { command: string; args: string[]; cwd?: string; env?: Record<string, string> };

export interface EmulatedApiServerOptions {
  runContainer: ContainerRunner;
  /** Serve gateway.networking.k8s.io/v1 (HTTPRoutes). */
  gatewayApi?: boolean;
  /** Watch events kept for resuming; older resourceVersions answer 410 Gone. */
  historyLimit?: number;
  /** Readiness probe period of the emulated kubelet. */
  probePeriodMs?: number;
  /** Back-off before a crashed container is started again. */
  restartBackoffMs?: number;
  /** Bearer token the server requires (none: any). */
  token?: string;
}

interface WatchEvent {
  rv: number;
  resource: string;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}

interface PodRuntime {
  proc: ChildProcess | null;
  lines: string[];
  emitter: EventEmitter;
  probe: NodeJS.Timeout | null;
  stopping: boolean;
  oomNext: boolean;
  restartTimer: NodeJS.Timeout | null;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Leaf paths of an applied object (arrays are atomic, as `x-kubernetes-list-type: atomic`); a path
 * is a JSON array of keys, since label keys contain dots and slashes.
 */
function leafPaths(v: unknown, prefix: string[] = []): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (isObj(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) for (const [p, y] of leafPaths(x, [...prefix, k])) out.set(p, y);
  } else if (prefix.length > 0) out.set(JSON.stringify(prefix), v);
  return out;
}
const keysOf = (path: string) => JSON.parse(path) as string[];
/** `.spec.template.metadata.labels.app` — how the API server names a field in a conflict. */
const fieldName = (path: string) => `.${keysOf(path).join('.')}`;
const getPath = (o: unknown, path: string): unknown =>
  keysOf(path).reduce<unknown>((a, k) => (isObj(a) ? a[k] : undefined), o);
function setPath(o: Record<string, unknown>, path: string, value: unknown) {
  const keys = keysOf(path);
  let cur = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = clone(value);
}
function deletePath(o: Record<string, unknown>, path: string) {
  const keys = keysOf(path);
  const parents: Record<string, unknown>[] = [];
  let cur: unknown = o;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur)) return;
    parents.push(cur);
    cur = cur[k];
  }
  if (!isObj(cur)) return;
  delete cur[keys[keys.length - 1] as string];
  // Empty parents go too.
  for (let i = parents.length - 1; i >= 0; i--) {
    const parent = parents[i] as Record<string, unknown>;
    const child = parent[keys[i] as string];
    if (isObj(child) && Object.keys(child).length === 0) delete parent[keys[i] as string];
  }
}
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** `a=b,c!=d,e in (x,y),f notin (z),g,!h` — the label selector grammar of the API server. */
export function matchesSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  const l = labels ?? {};
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const t = raw.trim();
    if (!t) return true;
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m) {
      const set = (m[3] as string).split(',').map((s) => s.trim());
      const has = (m[1] as string) in l && set.includes(l[m[1] as string] as string);
      return m[2] === 'in' ? has : !has;
    }
    m = /^([^!=\s]+)\s*(!=|==|=)\s*(\S*)$/.exec(t);
    if (m) return m[2] === '!=' ? l[m[1] as string] !== m[3] : l[m[1] as string] === m[3];
    if (t.startsWith('!')) return !(t.slice(1) in l);
    return t in l;
  });
}
const selectorOf = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export class EmulatedApiServer {
  private server: Server | null = null;
  private rv = 0;
  private readonly objects = new Map<string, Obj>();
  private readonly history: WatchEvent[] = [];
  private readonly bus = new EventEmitter();
  private readonly watches = new Set<ServerResponse>();
  private readonly pods = new Map<string, PodRuntime>();
  private readonly proxies = new Map<string, { server: Server; address: string }>();
  private readonly agent = new Agent({ keepAlive: true });
  private readonly options: Required<Omit<EmulatedApiServerOptions, 'token'>> & { token?: string };
  /** Every request the server answered, `METHOD path?query` (tests read how a client behaved). */
  readonly requests: string[] = [];
  url = '';

  constructor(options: EmulatedApiServerOptions) {
    this.options = {
      gatewayApi: false,
      historyLimit: 10_000,
      probePeriodMs: 150,
      restartBackoffMs: 300,
      ...options,
    };
    this.bus.setMaxListeners(0);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const e =
          err instanceof ApiError
            ? err
            : new ApiError(500, 'InternalError', (err as Error).message ?? String(err));
        if (!res.headersSent) this.status(res, e.code, e.reason, e.message);
        else res.end();
      });
    });
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.destroy();
    await Promise.all([...this.pods.keys()].map((k) => this.killPod(k, 2_000)));
    for (const p of this.proxies.values()) {
      p.server.closeAllConnections();
      p.server.close();
    }
    this.proxies.clear();
    this.agent.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  /** Cuts every open watch connection (a network blip between the control plane and the cluster). */
  dropWatches(): void {
    for (const w of this.watches) w.destroy();
    this.watches.clear();
  }

  private held: (() => void)[] | null = null;
  /**
   * A network partition for watches: new watch requests wait (unanswered) until `release` is
   * called, and are then served as of that moment, with the resourceVersion they asked for.
   */
  holdWatches(): () => void {
    this.held ??= [];
    return () => {
      const waiting = this.held ?? [];
      this.held = null;
      for (const go of waiting) go();
    };
  }

  /** Forgets the watch history: a watch from any earlier resourceVersion answers 410 Gone. */
  compact(): void {
    this.history.length = 0;
  }

  /** The address the Service (or, with the Gateway API, the HTTPRoute) is served at. */
  addressOf(resource: 'services' | 'httproutes', namespace: string, name: string): string | null {
    return this.proxies.get(`${resource}/${namespace}/${name}`)?.address ?? null;
  }

  /** The kernel's OOM killer, emulated: SIGKILLs the container and records `OOMKilled`. */
  oomKill(namespace: string, pod: string): void {
    const rt = this.pods.get(`${namespace}/${pod}`);
    if (!rt?.proc) throw new Error(`pod ${pod} has no running container`);
    rt.oomNext = true;
    rt.proc.kill('SIGKILL');
  }

  /** The pid of a pod's container, for tests that crash it. */
  containerPid(namespace: string, pod: string): number | null {
    return this.pods.get(`${namespace}/${pod}`)?.proc?.pid ?? null;
  }

  get(resource: string, namespace: string, name: string): Obj | null {
    const o = this.objects.get(`${resource}/${namespace}/${name}`);
    return o ? clone(o) : null;
  }

  list(resource: string, namespace: string, selector = ''): Obj[] {
    return [...this.objects.entries()]
      .filter(
        ([k, o]) => k.startsWith(`${resource}/${namespace}/`) && matchesSelector(o.metadata.labels, selector),
      )
      .map(([, o]) => clone(o));
  }

  // --- HTTP ---------------------------------------------------------------------------------

  private status(res: ServerResponse, code: number, reason: string, message: string) {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
  }

  private json(res: ServerResponse, code: number, body: unknown) {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      // YAML is a superset of JSON; clients here send JSON. Anything else is a bad request.
      throw new ApiError(400, 'BadRequest', 'the body is not valid JSON/YAML this server understands');
    }
  }

  private served(): ResourceDef[] {
    return RESOURCES.filter((r) => this.options.gatewayApi || r.group !== 'gateway.networking.k8s.io');
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const parts = url.pathname.split('/').filter(Boolean);
    // Discovery.
    if (url.pathname === '/api') return this.json(res, 200, { kind: 'APIVersions', versions: ['v1'] });
    if (url.pathname === '/apis') {
      const groups = [...new Set(this.served().map((r) => r.group))].filter(Boolean);
      return this.json(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => ({
          name: g,
          versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
          preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
        })),
      });
    }
    let group = '';
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
    else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1] as string;
      rest = parts.slice(3);
    } else
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
    const defs = this.served().filter((r) => r.group === group);
    if (defs.length === 0) throw new ApiError(404, 'NotFound', `no API group ${group}`);
    if (rest.length === 0) {
      return this.json(res, 200, {
        kind: 'APIResourceList',
        groupVersion: group ? `${group}/v1` : 'v1',
        resources: defs.flatMap((d) => [
          {
            name: d.plural,
            namespaced: true,
            kind: d.kind,
            verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
          },
          ...d.subresources.map((s) => ({
            name: `${d.plural}/${s}`,
            namespaced: true,
            kind: d.kind,
            verbs: ['get', 'patch', 'update'],
          })),
        ]),
      });
    }
    if (rest[0] !== 'namespaces' || rest.length < 3)
      throw new ApiError(404, 'NotFound', 'namespaced resources only');
    const namespace = rest[1] as string;
    const def = defs.find((d) => d.plural === rest[2]);
    if (!def) throw new ApiError(404, 'NotFound', `unknown resource ${rest[2]}`);
    const name = rest[3];
    const sub = rest[4];
    const method = req.method ?? 'GET';
    if (!name) {
      if (method === 'GET') return this.listOrWatch(def, namespace, url, res);
      if (method === 'POST')
        return this.json(res, 201, this.create(def, namespace, (await this.body(req)) as Obj));
      throw new ApiError(405, 'MethodNotAllowed', method);
    }
    if (sub === 'log' && def.plural === 'pods') return this.podLog(namespace, name, url, res);
    if (sub === 'scale' && def.plural === 'deployments') {
      if (method === 'GET') return this.json(res, 200, this.scaleOf(namespace, name));
      const body = (await this.body(req)) as { spec?: { replicas?: number } };
      const replicas = body.spec?.replicas;
      if (typeof replicas !== 'number' || replicas < 0)
        throw new ApiError(422, 'Invalid', 'spec.replicas: must be >= 0');
      const manager = url.searchParams.get('fieldManager') ?? 'scale-client';
      this.update('deployments', namespace, name, (o) => {
        (o.spec as Record<string, unknown>).replicas = replicas;
        this.own(o, manager, 'Update', [JSON.stringify(['spec', 'replicas'])]);
      });
      return this.json(res, 200, this.scaleOf(namespace, name));
    }
    if (sub && sub !== 'status') throw new ApiError(404, 'NotFound', `unknown subresource ${sub}`);
    const key = `${def.plural}/${namespace}/${name}`;
    if (method === 'GET') {
      const o = this.objects.get(key);
      if (!o) throw new ApiError(404, 'NotFound', `${def.plural} "${name}" not found`);
      return this.json(res, 200, o);
    }
    if (method === 'DELETE') {
      const o = this.objects.get(key);
      if (!o) throw new ApiError(404, 'NotFound', `${def.plural} "${name}" not found`);
      if (def.plural === 'pods') this.terminatePod(namespace, name);
      else this.remove(def.plural, namespace, name);
      return this.json(res, 200, o);
    }
    if (method === 'PUT') {
      const body = (await this.body(req)) as Obj;
      const cur = this.objects.get(key);
      if (!cur) throw new ApiError(404, 'NotFound', `${def.plural} "${name}" not found`);
      if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
        throw new ApiError(
          409,
          'Conflict',
          'the object has been modified; please apply your changes to the latest version and try again',
        );
      }
      return this.json(
        res,
        200,
        this.update(def.plural, namespace, name, (o) => {
          if (sub === 'status') o.status = clone(body.status ?? {});
          else {
            o.spec = clone(body.spec ?? {});
            o.metadata.labels = clone(body.metadata?.labels ?? {});
            o.metadata.annotations = clone(body.metadata?.annotations ?? {});
          }
        }),
      );
    }
    if (method === 'PATCH') {
      const type = (req.headers['content-type'] ?? '').split(';')[0];
      const body = (await this.body(req)) as Obj;
      if (type === 'application/apply-patch+yaml') {
        const manager = url.searchParams.get('fieldManager');
        if (!manager) throw new ApiError(422, 'Invalid', 'fieldManager is required for apply requests');
        const force = url.searchParams.get('force') === 'true';
        const [obj, created] = this.apply(def, namespace, name, body, manager, force);
        return this.json(res, created ? 201 : 200, obj);
      }
      if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
        const cur = this.objects.get(key);
        if (!cur) throw new ApiError(404, 'NotFound', `${def.plural} "${name}" not found`);
        const pre = body.metadata?.resourceVersion;
        if (pre && pre !== cur.metadata.resourceVersion) {
          throw new ApiError(
            409,
            'Conflict',
            'the object has been modified; please apply your changes to the latest version and try again',
          );
        }
        const { resourceVersion: _rv, ...meta } = body.metadata ?? ({} as Meta);
        const patch = { ...body, metadata: meta };
        return this.json(
          res,
          200,
          this.update(def.plural, namespace, name, (o) => {
            const merged = mergePatch(o, patch) as Obj;
            for (const k of Object.keys(o)) delete o[k];
            Object.assign(o, merged);
          }),
        );
      }
      throw new ApiError(415, 'UnsupportedMediaType', `unsupported patch type ${type}`);
    }
    throw new ApiError(405, 'MethodNotAllowed', method);
  }

  private scaleOf(namespace: string, name: string) {
    const d = this.objects.get(`deployments/${namespace}/${name}`);
    if (!d) throw new ApiError(404, 'NotFound', `deployments "${name}" not found`);
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, resourceVersion: d.metadata.resourceVersion },
      spec: { replicas: (d.spec as { replicas: number }).replicas },
      status: {
        replicas: (d.status as { replicas?: number } | undefined)?.replicas ?? 0,
        selector: selectorOf(
          (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
        ),
      },
    };
  }

  private listOrWatch(def: ResourceDef, namespace: string, url: URL, res: ServerResponse) {
    const selector = url.searchParams.get('labelSelector') ?? '';
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') {
      if (this.held) {
        this.held.push(() => this.listOrWatch(def, namespace, url, res));
        return;
      }
      const from = url.searchParams.get('resourceVersion');
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      const send = (e: { type: string; object: unknown }) => res.write(`${JSON.stringify(e)}\n`);
      const matches = (e: WatchEvent) =>
        e.resource === def.plural &&
        e.namespace === namespace &&
        matchesSelector(e.object.metadata.labels, selector);
      if (!from || from === '0') {
        for (const o of this.list(def.plural, namespace, selector)) send({ type: 'ADDED', object: o });
      } else {
        const n = Number(from);
        const oldest = this.history[0]?.rv ?? this.rv + 1;
        if (!Number.isInteger(n) || (n < oldest - 1 && n < this.rv)) {
          send({
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              message: `too old resource version: ${from} (${oldest - 1})`,
              reason: 'Expired',
              code: 410,
            },
          });
          res.end();
          return;
        }
        for (const e of this.history) if (e.rv > n && matches(e)) send({ type: e.type, object: e.object });
      }
      const onEvent = (e: WatchEvent) => {
        if (matches(e)) send({ type: e.type, object: e.object });
      };
      this.bus.on('event', onEvent);
      this.watches.add(res);
      res.on('close', () => {
        this.bus.off('event', onEvent);
        this.watches.delete(res);
      });
      return;
    }
    this.json(res, 200, {
      kind: `${def.kind}List`,
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      metadata: { resourceVersion: String(this.rv) },
      items: this.list(def.plural, namespace, selector),
    });
  }

  private podLog(namespace: string, name: string, url: URL, res: ServerResponse) {
    const rt = this.pods.get(`${namespace}/${name}`);
    if (!rt) throw new ApiError(404, 'NotFound', `pods "${name}" not found`);
    const tail = Number(url.searchParams.get('tailLines'));
    const lines = Number.isInteger(tail) && tail > 0 ? rt.lines.slice(-tail) : rt.lines;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const l of lines) res.write(`${l}\n`);
    if (url.searchParams.get('follow') !== 'true') return res.end();
    const onLine = (l: string) => res.write(`${l}\n`);
    const onGone = () => res.end();
    rt.emitter.on('line', onLine);
    rt.emitter.once('gone', onGone);
    res.on('close', () => {
      rt.emitter.off('line', onLine);
      rt.emitter.off('gone', onGone);
    });
  }

  // --- Storage ------------------------------------------------------------------------------

  private record(type: WatchEvent['type'], resource: string, namespace: string, object: Obj) {
    const e: WatchEvent = { rv: this.rv, resource, namespace, type, object: clone(object) };
    this.history.push(e);
    if (this.history.length > this.options.historyLimit) this.history.shift();
    this.bus.emit('event', e);
    queueMicrotask(() => this.reconcile(resource, namespace, object.metadata.name));
  }

  private create(def: ResourceDef, namespace: string, body: Obj): Obj {
    const name = body.metadata?.name;
    if (!name) throw new ApiError(422, 'Invalid', 'metadata.name: Required value');
    const key = `${def.plural}/${namespace}/${name}`;
    if (this.objects.has(key))
      throw new ApiError(409, 'AlreadyExists', `${def.plural} "${name}" already exists`);
    const o = clone(body);
    o.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    o.kind = def.kind;
    o.metadata = {
      ...o.metadata,
      name,
      namespace,
      uid: createHash('sha1').update(`${key}/${this.rv}/${Math.random()}`).digest('hex').slice(0, 32),
      resourceVersion: String(++this.rv),
      generation: 1,
      creationTimestamp: new Date().toISOString(),
    };
    this.defaults(def, o);
    this.objects.set(key, o);
    this.record('ADDED', def.plural, namespace, o);
    return clone(o);
  }

  private defaults(def: ResourceDef, o: Obj) {
    // An EndpointSlice has no spec: its endpoints and ports are top-level fields.
    if (def.plural === 'endpointslices') return;
    o.spec ??= {};
    if (def.plural === 'deployments') {
      o.spec.replicas ??= 1;
      o.status ??= { replicas: 0, readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0 };
    }
    if (def.plural === 'services') {
      o.spec.clusterIP ??= this.allocateIp(10);
      o.spec.type ??= 'ClusterIP';
    }
  }

  private allocateIp(net: number): string {
    // Shared by every emulated server of the process: two clusters in one test never hand out the
    // same loopback address (real clusters have their own pod and Service CIDRs).
    const n = nextIp++;
    return `127.${net}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  }

  /** Applies `mutate` to a copy; stores and announces it only when something changed. */
  private update(resource: string, namespace: string, name: string, mutate: (o: Obj) => void): Obj {
    const key = `${resource}/${namespace}/${name}`;
    const cur = this.objects.get(key);
    if (!cur) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    const next = clone(cur);
    mutate(next);
    const strip = (o: Obj) =>
      JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: '', managedFields: [] } });
    if (
      strip(next) === strip(cur) &&
      JSON.stringify(next.metadata.managedFields) === JSON.stringify(cur.metadata.managedFields)
    ) {
      return clone(cur);
    }
    if (JSON.stringify(next.spec) !== JSON.stringify(cur.spec))
      next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    next.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, next);
    this.record('MODIFIED', resource, namespace, next);
    return clone(next);
  }

  private remove(resource: string, namespace: string, name: string) {
    const key = `${resource}/${namespace}/${name}`;
    const o = this.objects.get(key);
    if (!o) return;
    this.objects.delete(key);
    o.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', resource, namespace, o);
  }

  private owners(o: Obj): Map<string, string> {
    const m = new Map<string, string>();
    for (const f of o.metadata.managedFields ?? [])
      for (const p of Object.keys(f.fieldsV1)) m.set(p, f.manager);
    return m;
  }

  private own(o: Obj, manager: string, operation: string, paths: string[], drop: string[] = []) {
    const fields = (o.metadata.managedFields ?? []).map((f) => ({ ...f, fieldsV1: { ...f.fieldsV1 } }));
    for (const f of fields) for (const p of paths) delete f.fieldsV1[p];
    let mine = fields.find((f) => f.manager === manager && f.operation === operation);
    if (!mine) {
      mine = { manager, operation, fieldsV1: {} };
      fields.push(mine);
    }
    for (const p of drop) delete mine.fieldsV1[p];
    for (const p of paths) mine.fieldsV1[p] = {};
    o.metadata.managedFields = fields.filter((f) => Object.keys(f.fieldsV1).length > 0);
  }

  /**
   * Server-side apply: the manager's applied configuration is merged in; fields another manager
   * owns with a different value are a conflict unless `force`; fields this manager applied before
   * and left out now are removed (unless someone else owns them too).
   */
  private apply(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: Obj,
    manager: string,
    force: boolean,
  ): [Obj, boolean] {
    if (body.metadata?.name && body.metadata.name !== name)
      throw new ApiError(400, 'BadRequest', 'metadata.name does not match the URL');
    const {
      name: _n,
      namespace: _ns,
      resourceVersion: _rv,
      managedFields: _mf,
      ...meta
    } = body.metadata ?? ({} as Meta);
    const intent: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body))
      if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'status') intent[k] = v;
    if (Object.keys(meta).length > 0) intent.metadata = meta;
    const leaves = leafPaths(intent);
    const key = `${def.plural}/${namespace}/${name}`;
    const cur = this.objects.get(key);
    if (!cur) {
      this.create(def, namespace, { ...body, metadata: { ...meta, name } } as Obj);
      return [
        this.update(def.plural, namespace, name, (x) => this.own(x, manager, 'Apply', [...leaves.keys()])),
        true,
      ];
    }
    const owners = this.owners(cur);
    const conflicts = [...leaves].filter(([p, v]) => {
      const owner = owners.get(p);
      return owner && owner !== manager && JSON.stringify(getPath(cur, p)) !== JSON.stringify(v);
    });
    if (conflicts.length > 0 && !force) {
      throw new ApiError(
        409,
        'Conflict',
        `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts
          .map(([p]) => `conflict with "${owners.get(p)}": ${fieldName(p)}`)
          .join(', ')}`,
      );
    }
    const before = [...owners].filter(([, m]) => m === manager).map(([p]) => p);
    const dropped = before.filter((p) => !leaves.has(p));
    return [
      this.update(def.plural, namespace, name, (o) => {
        for (const p of dropped) deletePath(o, p);
        for (const [p, v] of leaves) setPath(o, p, v);
        this.own(o, manager, 'Apply', [...leaves.keys()], dropped);
      }),
      false,
    ];
  }

  // --- Controllers ----------------------------------------------------------------------------

  private reconcile(resource: string, namespace: string, name: string) {
    if (resource === 'deployments') this.reconcileDeployment(namespace, name);
    if (resource === 'pods') {
      for (const d of this.list('deployments', namespace))
        this.reconcileDeployment(namespace, d.metadata.name);
      for (const s of this.list('services', namespace)) this.reconcileService(namespace, s.metadata.name);
    }
    if (resource === 'services') this.reconcileService(namespace, name);
    if (resource === 'httproutes') this.reconcileRoute(namespace, name);
  }

  private templateHash(d: Obj): string {
    return createHash('sha256')
      .update(JSON.stringify((d.spec as { template: unknown }).template))
      .digest('hex')
      .slice(0, 10);
  }

  /** The Deployment (+ ReplicaSet) controller: pods of the current template, scaled down by cost. */
  private reconcileDeployment(namespace: string, name: string) {
    const d = this.objects.get(`deployments/${namespace}/${name}`);
    const owned = this.list('pods', namespace).filter((p) =>
      p.metadata.ownerReferences?.some((r) => r.kind === 'Deployment' && r.name === name),
    );
    if (!d) {
      for (const p of owned) this.terminatePod(namespace, p.metadata.name);
      return;
    }
    const spec = d.spec as {
      replicas: number;
      template: { metadata?: { labels?: Record<string, string> }; spec: unknown };
    };
    const hash = this.templateHash(d);
    const live = owned.filter((p) => !p.metadata.deletionTimestamp);
    const current = live.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const old = live.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
    for (let i = current.length; i < spec.replicas; i++) {
      const podName = `${name}-${hash.slice(0, 5)}-${Math.random().toString(36).slice(2, 7)}`;
      this.create(RESOURCES[0] as ResourceDef, namespace, {
        metadata: {
          name: podName,
          labels: { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash },
          ownerReferences: [{ kind: 'Deployment', name, uid: d.metadata.uid as string }],
        },
        spec: clone(spec.template.spec) as Record<string, unknown>,
        status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] },
      });
      this.startPod(namespace, podName);
    }
    const ready = (p: Obj) =>
      (p.status as { conditions?: { type: string; status: string }[] })?.conditions?.some(
        (c) => c.type === 'Ready' && c.status === 'True',
      ) ?? false;
    if (current.length > spec.replicas) {
      // ReplicaSet scale-down order: not running, not ready, lower pod-deletion-cost, newer.
      const rank = (p: Obj) => [
        (p.status as { phase?: string })?.phase === 'Running' ? 1 : 0,
        ready(p) ? 1 : 0,
        Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0),
        -Date.parse(p.metadata.creationTimestamp ?? ''),
      ];
      const sorted = [...current].sort((a, b) => {
        const x = rank(a);
        const y = rank(b);
        for (let i = 0; i < x.length; i++)
          if ((x[i] as number) !== (y[i] as number)) return (x[i] as number) - (y[i] as number);
        return 0;
      });
      for (const p of sorted.slice(0, current.length - spec.replicas))
        this.terminatePod(namespace, p.metadata.name);
    }
    // A new template replaces the old pods once enough new ones are ready (surge, like RollingUpdate).
    const readyCurrent = current.filter(ready).length;
    if (old.length > 0 && readyCurrent >= Math.min(spec.replicas, current.length)) {
      for (const p of old) this.terminatePod(namespace, p.metadata.name);
    }
    const all = owned.filter((p) => !p.metadata.deletionTimestamp);
    const status = {
      observedGeneration: d.metadata.generation,
      replicas: all.length,
      updatedReplicas: current.length,
      readyReplicas: all.filter(ready).length,
      availableReplicas: all.filter(ready).length,
    };
    if (JSON.stringify(status) !== JSON.stringify(d.status))
      this.update('deployments', namespace, name, (o) => {
        o.status = status;
      });
  }

  /** The kubelet: the container is a real process on the pod's own loopback address. */
  private startPod(namespace: string, name: string) {
    const key = `${namespace}/${name}`;
    const rt: PodRuntime = {
      proc: null,
      lines: [],
      emitter: new EventEmitter(),
      probe: null,
      stopping: false,
      oomNext: false,
      restartTimer: null,
    };
    rt.emitter.setMaxListeners(0);
    this.pods.set(key, rt);
    const podIP = this.allocateIp(20);
    const run = () => {
      const pod = this.objects.get(`pods/${namespace}/${name}`);
      if (!pod || rt.stopping) return;
      const c = ((pod.spec as { containers: Record<string, unknown>[] }).containers ?? [])[0] as {
        image: string;
        args?: string[];
        env?: { name: string; value: string }[];
        ports?: { containerPort: number }[];
        readinessProbe?: { httpGet?: { path: string; port: number } };
      };
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      const port = c.ports?.[0]?.containerPort ?? 8080;
      const cmd = this.options.runContainer({
        pod: name,
        podIP,
        image: c.image,
        port,
        env,
        args: c.args ?? [],
      });
      const proc = spawn(cmd.command, cmd.args, {
        cwd: cmd.cwd,
        env: { ...process.env, ...env, ...cmd.env, POD_NAME: name, POD_IP: podIP },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      rt.proc = proc;
      const onData = (buf: Buffer) => {
        for (const l of buf.toString('utf8').split('\n')) {
          if (!l) continue;
          rt.lines.push(l);
          if (rt.lines.length > 5_000) rt.lines.shift();
          rt.emitter.emit('line', l);
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      this.update('pods', namespace, name, (o) => {
        const st = (o.status ?? {}) as Record<string, unknown>;
        const prev = ((st.containerStatuses as Record<string, unknown>[] | undefined) ?? [])[0] ?? {};
        o.status = {
          ...st,
          phase: 'Running',
          podIP,
          hostIP: '127.0.0.1',
          startTime: st.startTime ?? new Date().toISOString(),
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [
            {
              name: 'app',
              image: c.image,
              ready: false,
              restartCount: (prev.restartCount as number | undefined) ?? 0,
              ...(prev.lastState ? { lastState: prev.lastState } : {}),
              state: { running: { startedAt: new Date().toISOString() } },
            },
          ],
        };
      });
      const probe = c.readinessProbe?.httpGet;
      if (rt.probe) clearInterval(rt.probe);
      rt.probe = setInterval(() => {
        const req = httpRequest(
          { host: podIP, port: probe?.port ?? port, path: probe?.path ?? '/', timeout: 1_000, agent: false },
          (res) => {
            res.resume();
            this.setReady(namespace, name, (res.statusCode ?? 500) >= 200 && (res.statusCode ?? 500) < 400);
          },
        );
        req.on('error', () => this.setReady(namespace, name, false));
        req.on('timeout', () => req.destroy());
        req.end();
      }, this.options.probePeriodMs);
      proc.on('exit', (code, signal) => {
        if (rt.probe) clearInterval(rt.probe);
        rt.probe = null;
        rt.proc = null;
        const oom = rt.oomNext;
        rt.oomNext = false;
        if (rt.stopping || !this.objects.has(`pods/${namespace}/${name}`)) return;
        this.update('pods', namespace, name, (o) => {
          const st = o.status as Record<string, unknown>;
          const cs = ((st.containerStatuses as Record<string, unknown>[]) ?? [])[0] ?? {};
          st.conditions = [{ type: 'Ready', status: 'False' }];
          st.containerStatuses = [
            {
              ...cs,
              ready: false,
              restartCount: ((cs.restartCount as number | undefined) ?? 0) + 1,
              lastState: {
                terminated: {
                  exitCode: code ?? 137,
                  ...(signal ? { signal: 9 } : {}),
                  reason: oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error',
                  finishedAt: new Date().toISOString(),
                },
              },
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ];
        });
        rt.restartTimer = setTimeout(run, this.options.restartBackoffMs);
      });
    };
    // Pending first (scheduled, image "pulled"), then the container starts.
    setTimeout(run, 20);
  }

  private setReady(namespace: string, name: string, ready: boolean) {
    const pod = this.objects.get(`pods/${namespace}/${name}`);
    if (!pod || pod.metadata.deletionTimestamp) return;
    const cs = ((pod.status as { containerStatuses?: { ready: boolean }[] })?.containerStatuses ?? [])[0];
    if (!cs || cs.ready === ready) return;
    this.update('pods', namespace, name, (o) => {
      const st = o.status as { conditions: unknown[]; containerStatuses: { ready: boolean }[] };
      st.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
      (st.containerStatuses[0] as { ready: boolean }).ready = ready;
    });
  }

  /** Graceful deletion: out of every Service at once (terminating), SIGTERM, SIGKILL after the grace period. */
  private terminatePod(namespace: string, name: string) {
    const pod = this.objects.get(`pods/${namespace}/${name}`);
    if (!pod || pod.metadata.deletionTimestamp) return;
    this.update('pods', namespace, name, (o) => {
      o.metadata.deletionTimestamp = new Date().toISOString();
    });
    const spec = pod.spec as {
      terminationGracePeriodSeconds?: number;
      containers?: { lifecycle?: { preStop?: { sleep?: { seconds?: number } } } }[];
    };
    const grace = (spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    const preStop = (spec?.containers?.[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    void this.killPod(`${namespace}/${name}`, grace, preStop).then(() =>
      this.remove('pods', namespace, name),
    );
  }

  /** The kubelet's termination: the preStop sleep (within the grace period), SIGTERM, SIGKILL at its end. */
  private async killPod(key: string, graceMs: number, preStopMs = 0) {
    const rt = this.pods.get(key);
    if (!rt) return;
    rt.stopping = true;
    if (rt.probe) clearInterval(rt.probe);
    if (rt.restartTimer) clearTimeout(rt.restartTimer);
    const t0 = Date.now();
    if (preStopMs > 0) await new Promise((r) => setTimeout(r, Math.min(preStopMs, graceMs)));
    graceMs = Math.max(0, graceMs - (Date.now() - t0));
    const proc = rt.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((ok) => proc.once('exit', ok));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rt.emitter.emit('gone');
    this.pods.delete(key);
  }

  /**
   * kube-proxy: a Service's targets are the ready endpoints of its EndpointSlice (what the
   * endpoint-slice controller published), never the pods read directly.
   */
  private serviceTargets(namespace: string, name: string): string[] {
    const slice = this.objects.get(`endpointslices/${namespace}/${sliceName(name)}`) as
      | (Obj & { endpoints?: SliceEndpoint[]; ports?: { port: number }[] })
      | undefined;
    if (!slice) return [];
    const port = slice.ports?.[0]?.port ?? 80;
    return (slice.endpoints ?? []).filter((e) => e.conditions.ready).map((e) => `${e.addresses[0]}:${port}`);
  }

  /**
   * The endpoint-slice controller: one EndpointSlice per Service with a selector (label
   * `kubernetes.io/service-name`), an endpoint per selected pod that has an address — `ready`
   * when the pod is Ready and not terminating, `terminating` once it is being deleted.
   */
  private reconcileEndpoints(namespace: string, service: string) {
    const svc = this.objects.get(`services/${namespace}/${service}`);
    const name = sliceName(service);
    const key = `endpointslices/${namespace}/${name}`;
    const spec = svc?.spec as
      | { selector?: Record<string, string>; ports?: { port: number; targetPort?: number }[] }
      | undefined;
    if (!svc || !spec?.selector || Object.keys(spec.selector).length === 0) {
      if (this.objects.has(key)) this.remove('endpointslices', namespace, name);
      return;
    }
    const isReady = (p: Obj) =>
      (p.status as { conditions?: { type: string; status: string }[] })?.conditions?.some(
        (c) => c.type === 'Ready' && c.status === 'True',
      ) ?? false;
    const endpoints: SliceEndpoint[] = this.list('pods', namespace, selectorOf(spec.selector))
      .filter((p) => (p.status as { podIP?: string })?.podIP)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((p) => {
        const terminating = Boolean(p.metadata.deletionTimestamp);
        return {
          addresses: [(p.status as { podIP: string }).podIP],
          conditions: { ready: isReady(p) && !terminating, serving: isReady(p), terminating },
          targetRef: { kind: 'Pod', namespace, name: p.metadata.name },
        };
      });
    const containerPort = (p: Obj | undefined) =>
      (p?.spec as { containers?: { ports?: { containerPort: number }[] }[] })?.containers?.[0]?.ports?.[0]
        ?.containerPort;
    const port =
      spec.ports?.[0]?.targetPort ??
      containerPort(this.list('pods', namespace, selectorOf(spec.selector))[0]) ??
      8080;
    const body = {
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    };
    if (!this.objects.has(key)) {
      this.create(RESOURCES.find((r) => r.plural === 'endpointslices') as ResourceDef, namespace, {
        metadata: {
          name,
          labels: {
            'kubernetes.io/service-name': service,
            'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          },
          ownerReferences: [{ kind: 'Service', name: service, uid: svc.metadata.uid as string }],
        },
        ...body,
      });
      return;
    }
    this.update('endpointslices', namespace, name, (o) => {
      Object.assign(o, body);
    });
  }

  private counter = 0;
  /** A per-request HTTP proxy: each new request goes to a target chosen now (atomic switch). */
  private async ensureProxy(key: string, host: string, port: number, pick: () => string | null) {
    if (this.proxies.has(key)) return;
    const server = createServer((req, res) => {
      const target = pick();
      if (!target) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('no endpoints\n');
        return;
      }
      const [h, p] = target.split(':');
      const up = httpRequest(
        {
          host: h,
          port: Number(p),
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(up);
    });
    this.proxies.set(key, { server, address: `http://${host}:${port}` });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, host, () => ok());
    });
  }

  private reconcileService(namespace: string, name: string) {
    const key = `services/${namespace}/${name}`;
    const svc = this.objects.get(key);
    if (!svc) {
      const p = this.proxies.get(key);
      p?.server.close();
      this.proxies.delete(key);
      this.reconcileEndpoints(namespace, name);
      return;
    }
    this.reconcileEndpoints(namespace, name);
    const spec = svc.spec as { clusterIP: string; ports?: { port: number }[] };
    void this.ensureProxy(key, spec.clusterIP, spec.ports?.[0]?.port ?? 80, () => {
      const t = this.serviceTargets(namespace, name);
      return t.length ? (t[this.counter++ % t.length] as string) : null;
    });
  }

  /** The Gateway data plane for an HTTPRoute: a Service chosen by backendRefs weight, then a pod. */
  private reconcileRoute(namespace: string, name: string) {
    const key = `httproutes/${namespace}/${name}`;
    const route = this.objects.get(key);
    if (!route) {
      this.proxies.get(key)?.server.close();
      this.proxies.delete(key);
      return;
    }
    // The Gateway controller accepts the route and says which generation it has programmed.
    const generation = route.metadata.generation ?? 1;
    const parents = ((route.spec as { parentRefs?: Record<string, unknown>[] })?.parentRefs ?? []).map(
      (parentRef) => ({
        parentRef,
        controllerName: 'qubot.dev/emulated-gateway',
        conditions: [
          { type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: generation },
          { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', observedGeneration: generation },
        ],
      }),
    );
    if (JSON.stringify((route.status as { parents?: unknown })?.parents) !== JSON.stringify(parents)) {
      this.update('httproutes', namespace, name, (o) => {
        o.status = { parents };
      });
    }
    if (this.proxies.has(key)) return;
    void this.ensureProxy(key, this.allocateIp(30), 80, () => {
      const r = this.objects.get(key);
      const refs = (
        (r?.spec as { rules?: { backendRefs?: { name: string; weight?: number }[] }[] })?.rules?.[0]
          ?.backendRefs ?? []
      )
        .map((b) => ({
          name: b.name,
          weight: b.weight ?? 1,
          targets: this.serviceTargets(namespace, b.name),
        }))
        .filter((b) => b.weight > 0 && b.targets.length > 0);
      const total = refs.reduce((s, b) => s + b.weight, 0);
      if (total === 0) return null;
      let x = Math.random() * total;
      for (const b of refs) {
        x -= b.weight;
        if (x < 0) return b.targets[this.counter++ % b.targets.length] as string;
      }
      return null;
    });
  }
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  targetRef: { kind: string; namespace: string; name: string };
}

/**
 * The next loopback address (all emulated servers of the process), from an offset per process:
 * test files run in parallel processes must not hand out each other's addresses.
 */
let nextIp = 1 + (process.pid % 200) * 250;

/** The emulated controller's one EndpointSlice per Service (real ones are `<service>-<random>`). */
const sliceName = (service: string) => `${service}-qubot`;

/** A container runner for Qubot-One: the image is the artifact reference it serves. */
export function qubotOneRunner(workspaceDir: string, tsxLoaderUrl: string): ContainerRunner {
  return ({ pod, podIP, image, port, env }) => ({
    command: process.execPath,
    args: [
      '--import',
      tsxLoaderUrl,
      'apps/qubot-one/src/main.ts',
      '--artifact',
      image,
      '--host',
      podIP,
      '--port',
      String(port),
      '--version',
      env.QUBOT_VERSION ?? '0.0.0',
      '--pool',
      env.QUBOT_POOL ?? 'default',
      '--instance-id',
      pod,
    ],
    cwd: workspaceDir,
  });
}

/** A kubeconfig file's text for the emulated API server, authenticating with `token`. */
export function kubeconfigFor(server: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: emulated\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    'users:',
    `- name: qubot\n  user:\n    token: ${token}`,
    'contexts:',
    '- name: emulated\n  context:\n    cluster: emulated\n    user: qubot',
    'current-context: emulated',
    '',
  ].join('\n');
}
