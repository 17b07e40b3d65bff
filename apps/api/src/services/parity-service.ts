// Environment parity (docs/configuration.md "Parity"): two environments side by side — release,
// configuration keys, replicas, resources, traffic provider, hooks, drift — so "staging
// replicates production" is a check, not a belief. Configuration values go through the config
// diff, which masks secrets and compares them only for whoever may know (admins).
import type { EnvironmentParity } from '@qubot/api-contract';
import type { EnvironmentRepo } from '@qubot/db';
import { AppError } from '../lib/app-error.ts';
import { requirePermission } from '../lib/permissions.ts';
import type { RequestContext } from '../lib/request-context.ts';
import { environmentView } from '../views/views.ts';
import type { CatalogService } from './catalog-service.ts';
import type { ConfigService } from './config-service.ts';
import { hooksOf } from './hook-service.ts';

const pair = <T>(from: T, to: T) => ({ from, to, same: JSON.stringify(from) === JSON.stringify(to) });

export function createParityService(deps: {
  catalog: Pick<CatalogService, 'requireApp'>;
  environments: Pick<EnvironmentRepo, 'findView'>;
  config: Pick<ConfigService, 'diffEnvironments'>;
}) {
  return {
    /** GET /apps/:app/parity?from=staging&to=production */
    async compare(
      ctx: RequestContext,
      appName: string,
      from: string,
      to: string,
    ): Promise<EnvironmentParity> {
      requirePermission(ctx, 'read', { application: appName });
      if (from === to) throw AppError.badField('querystring.to', 'must name another environment than from');
      const app = await deps.catalog.requireApp(appName);
      const load = async (name: string, field: string) => {
        const row = await deps.environments.findView(app.id, name);
        if (!row) throw AppError.notFound(`environment "${name}" of "${appName}"`, { field });
        return row;
      };
      const a = await load(from, 'querystring.from');
      const b = await load(to, 'querystring.to');
      const va = environmentView(a);
      const vb = environmentView(b);
      // The local runtime's traffic router is the only provider these environments have so far.
      const provider = (r: typeof a) => (r.routerStatus ? 'qubot-router' : 'none');
      const hooks = (r: typeof a) => {
        const h = hooksOf(r.hooks);
        return { pre: h.pre?.job ?? null, post: h.post?.job ?? null };
      };
      const config = await deps.config.diffEnvironments(ctx, appName, from, to);
      const result = {
        release: pair(va.live?.version ?? null, vb.live?.version ?? null),
        replicas: pair(a.replicas, b.replicas),
        resources: pair(
          { memoryMb: a.memoryMb, cpuPercent: a.cpuPercent },
          { memoryMb: b.memoryMb, cpuPercent: b.cpuPercent },
        ),
        trafficProvider: pair(provider(a), provider(b)),
        hooks: pair(hooks(a), hooks(b)),
        configDrift: pair(va.config?.drift ?? false, vb.config?.drift ?? false),
      };
      const differences: string[] = [];
      if (!result.release.same)
        differences.push(
          `release: ${result.release.from ?? 'none'} in ${from}, ${result.release.to ?? 'none'} in ${to}`,
        );
      if (!result.replicas.same)
        differences.push(`replicas: ${a.replicas} in ${from}, ${b.replicas} in ${to}`);
      if (!result.resources.same) differences.push('resources (memory / CPU limits) differ');
      if (!result.trafficProvider.same) differences.push('traffic provider differs');
      if (!result.hooks.same) differences.push('deployment hooks differ');
      const keys = (l: { key: string }[]) => l.map((e) => e.key).join(', ');
      if (config.added.length) differences.push(`configuration keys only in ${to}: ${keys(config.added)}`);
      if (config.removed.length)
        differences.push(`configuration keys only in ${from}: ${keys(config.removed)}`);
      if (config.changed.length) differences.push(`configuration values differ: ${keys(config.changed)}`);
      if (config.notCompared.length)
        differences.push(`secrets not compared (an admin can compare them): ${keys(config.notCompared)}`);
      for (const [name, drift] of [
        [from, result.configDrift.from],
        [to, result.configDrift.to],
      ] as const)
        if (drift) differences.push(`${name} runs instances with an older configuration (drift)`);
      return { from, to, ...result, config, matches: differences.length === 0, differences };
    },
  };
}
export type ParityService = ReturnType<typeof createParityService>;
