import { BlockList, isIP } from 'node:net';
import { collectProcessMetrics } from '@qubot/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Metric, Registry } from 'prom-client';
import { AppError, ErrorCode } from '../lib/app-error.ts';
import { safeEqual } from '../lib/password.ts';
import { parseBearer } from '../services/auth-service.ts';

/**
 * Who may scrape `/metrics` (docs/security.md "Metrics"): a caller whose address is in `allow`
 * (CIDR ranges), or who sends `Authorization: Bearer <token>`. Default: loopback only.
 */
export interface MetricsAccess {
  /** QUBOT_METRICS_TOKEN: a scraper presenting it is let in from any address. */
  token?: string | undefined;
  /** QUBOT_METRICS_ALLOW: CIDR ranges let in without a token; default loopback. `[]`: token only. */
  allow?: string[] | undefined;
}

export const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** "10.0.0.0/8, 192.168.1.7, ::1" → ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]; throws naming the bad entry. */
export function parseCidrList(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(/[\s,]+/).filter(Boolean)) {
    const [addr = '', prefix, extra] = part.split('/');
    const family = isIP(addr);
    const max = family === 4 ? 32 : 128;
    const bits = prefix === undefined ? max : Number(prefix);
    if (!family || extra !== undefined || !/^\d+$/.test(String(bits)) || bits > max)
      throw new Error(`"${part}" is not an IP address or CIDR range`);
    out.push(`${addr}/${bits}`);
  }
  return out;
}

function blockList(cidrs: string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr = '', bits] = c.split('/');
    list.addSubnet(addr, Number(bits), isIP(addr) === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function allowed(list: BlockList, address: string): boolean {
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4) return list.check(v4, 'ipv4');
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
    /**
     * Adds text computed at each scrape after the registry's metrics (the control plane's figures
     * from the database: metrics/control-plane-metrics.ts). A source that throws is left out of that
     * scrape and `qubot_metrics_source_up{source}` says so.
     */
    addMetricsSource(name: string, source: () => Promise<string>): void;
  }
}

/** One (method, route, status) series of the request duration histogram. */
interface DurationSeries {
  labels: { method: string; route: string; status_code: string };
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * `http_request_duration_seconds` by method, route and status, exposed through the registry like any
 * prom-client metric (same name, labels, buckets and text). Each route's hook holds its own series,
 * so an observation is two map reads and three additions: prom-client's `observe` builds, checks and
 * hashes a label object on every call, a visible share of a cached read's CPU (bench/README.md,
 * "The read path").
 */
export class DurationHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'HTTP request duration by method, route and status';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: DurationSeries[] = [];
  constructor(readonly buckets: readonly number[]) {}

  /** The observer of one route: series by method and status, made on first use. */
  forRoute(route: string): (method: string, status: number, seconds: number) => void {
    const byMethod = new Map<string, Map<number, DurationSeries>>();
    const { buckets } = this;
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (!byStatus) {
        byStatus = new Map();
        byMethod.set(method, byStatus);
      }
      let s = byStatus.get(status);
      if (!s) {
        s = {
          labels: { method, route, status_code: String(status) },
          counts: new Float64Array(buckets.length + 1),
          sum: 0,
          count: 0,
        };
        byStatus.set(status, s);
        this.series.push(s);
      }
      let i = 0;
      while (i < buckets.length && seconds > (buckets[i] as number)) i++;
      (s.counts[i] as number)++;
      s.sum += seconds;
      s.count++;
    };
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i] as number;
        const le = i < this.buckets.length ? (this.buckets[i] as number) : '+Inf';
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** Prometheus registry per app instance (tests build many apps in one process). */
export default fp(
  async (app: FastifyInstance, opts: MetricsAccess) => {
    const token = opts.token || undefined;
    const allowList = blockList(opts.allow ?? LOOPBACK);
    const guard = async (request: FastifyRequest) => {
      const bearer = parseBearer(request.headers.authorization);
      if (token && bearer && safeEqual(bearer, token)) return;
      if (allowed(allowList, request.ip)) return;
      if (token)
        throw new AppError(
          ErrorCode.Unauthenticated,
          bearer ? 'the metrics token is wrong' : 'send the metrics token as Authorization: Bearer <token>',
        );
      throw new AppError(
        ErrorCode.Forbidden,
        'forbidden: /metrics is not open to this address (QUBOT_METRICS_ALLOW, QUBOT_METRICS_TOKEN)',
        { reason: 'metrics_address' },
      );
    };
    const registry = new Registry();
    collectProcessMetrics(registry, 'qubot_');
    const sources: { name: string; source: () => Promise<string> }[] = [];
    app.decorate('addMetricsSource', (name: string, source: () => Promise<string>) => {
      sources.push({ name, source });
    });
    const duration = new DurationHistogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
    registry.registerMetric(duration as unknown as Metric);
    app.decorate('metrics', registry);
    // The route pattern, never the raw URL: ids would explode the label set. Each route gets its
    // own observer (onRoute, every route registered after this plugin); requests that matched no
    // route are observed by the global hook below.
    app.addHook('onRoute', (route) => {
      const observe = duration.forRoute(route.url);
      const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        observe(request.method, reply.statusCode, reply.elapsedTime / 1000);
        done();
      };
      route.onResponse = route.onResponse ? [...[route.onResponse].flat(), hook] : [hook];
    });
    const unmatched = duration.forRoute('unmatched');
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    app.get('/metrics', { schema: { hide: true }, onRequest: guard }, async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      const [own, ...extra] = await Promise.all([
        registry.metrics(),
        ...sources.map(({ name, source }) =>
          source().then(
            (text) => ({ name, text, up: 1 }),
            (err: unknown) => {
              app.log.warn({ err, source: name }, 'a metrics source failed; left out of this scrape');
              return { name, text: '', up: 0 };
            },
          ),
        ),
      ]);
      if (extra.length === 0) return own;
      const up = [
        '# HELP qubot_metrics_source_up Whether each section of /metrics could be read for this scrape.',
        '# TYPE qubot_metrics_source_up gauge',
        ...extra.map((e) => `qubot_metrics_source_up{source="${e.name}"} ${e.up}`),
      ].join('\n');
      return `${own.endsWith('\n') ? own : `${own}\n`}${extra.map((e) => e.text).join('')}${up}\n`;
    });
  },
  { name: 'metrics' },
);
