import type { Deployment, Environment } from '@qubot/api-contract';
import { parseName } from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { CliError, ExitCode, exitCodeForDeployment, isTerminal, UsageError } from '../exit-utils.ts';
import { deploymentDetail, environmentDetail, environmentsTable, table } from '../format-utils.ts';
import { watchStream } from '../watch.ts';
import { deploymentChanges, deploymentOf, environmentChanges, environmentOf } from '../watch-utils.ts';
import { readDeployment } from './shared.ts';

const readEnvironments = (ctx: Context) =>
  ctx.client.call('GET /api/v1/apps/:app/environments', { params: { app: ctx.app } });
const readEnvironment = (ctx: Context, env: string) =>
  ctx.client.call('GET /api/v1/apps/:app/environments/:env', { params: { app: ctx.app, env } });

function noExtraArgs(ctx: Context, max = 0) {
  const extra = ctx.args[max];
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
}

export const apps: Command = {
  name: ['apps'],
  summary: 'List applications',
  options: {},
  examples: ['qubot apps', 'qubot apps --json'],
  async run(ctx) {
    noExtraArgs(ctx);
    const res = await ctx.client.call('GET /api/v1/apps');
    ctx.out.result(res, () =>
      res.items.length === 0
        ? 'no applications'
        : table(
            ['NAME', 'ENVIRONMENTS', 'DESCRIPTION'],
            res.items.map((a) => [a.name, a.environments.join(' → '), a.description ?? '']),
            ctx.out.style,
          ),
    );
    return ExitCode.Ok;
  },
};

export const envs: Command = {
  name: ['envs'],
  summary: "List an application's environments, in pipeline order",
  options: {},
  examples: ['qubot envs', 'qubot envs --app qubot-one --json'],
  async run(ctx) {
    noExtraArgs(ctx);
    const res = await readEnvironments(ctx);
    ctx.out.result(res, () => environmentsTable(res.items, ctx.out.style));
    return ExitCode.Ok;
  },
};

export const status: Command = {
  name: ['status'],
  summary: 'Show environments and their active deployments; --watch follows them live',
  args: '[<env>]',
  options: {
    watch: {
      type: 'boolean',
      short: 'w',
      description:
        'Stream live events and print each step and status change; exits when the followed deployment finishes (6 unless it succeeded)',
    },
  },
  examples: ['qubot status', 'qubot status staging', 'qubot status production --watch'],
  details:
    'With --watch and no deployment running, waits for the next one to start. Ctrl-C stops watching (exit 130).',
  async run(ctx) {
    noExtraArgs(ctx, 1);
    const envName = ctx.args[0] === undefined ? undefined : parseName(ctx.args[0], 'environment');
    if (ctx.values.watch === true) return watchStatus(ctx, envName);

    if (envName) {
      const env = await readEnvironment(ctx, envName);
      const active = env.activeDeployment ? await readDeployment(ctx, env.activeDeployment.id) : null;
      ctx.out.result({ environment: env, activeDeployment: active }, () =>
        [
          environmentDetail(env, ctx.out.style),
          ...(active ? ['', deploymentDetail(active, ctx.out.style)] : []),
        ].join('\n'),
      );
      return ExitCode.Ok;
    }
    const res = await readEnvironments(ctx);
    ctx.out.result({ application: ctx.app, environments: res.items }, () =>
      [`${ctx.out.style.bold(ctx.app)}`, environmentsTable(res.items, ctx.out.style)].join('\n'),
    );
    return ExitCode.Ok;
  },
};

/**
 * Follows an application (or one environment): environment changes are printed as they come,
 * the deployments active at the start (or the next one to start) are followed to the end.
 */
async function watchStatus(ctx: Context, envName: string | undefined): Promise<number> {
  const { out } = ctx;
  const style = out.json ? out.errStyle : out.style;
  const envs = new Map<string, Environment>();
  const followed = new Map<string, Deployment | null>();
  let announcedWaiting = false;

  const inScope = (environment: string) => envName === undefined || environment === envName;
  const allDone = () =>
    followed.size > 0 && [...followed.values()].every((d) => d !== null && isTerminal(d.status));

  const onDeployment = (d: Deployment): boolean => {
    if (!inScope(d.environment)) return false;
    if (!followed.has(d.id)) {
      // Only deployments active now, or started while watching, are followed.
      if (isTerminal(d.status) || allDone()) return allDone();
      followed.set(d.id, null);
    }
    for (const line of deploymentChanges(followed.get(d.id) ?? null, d, style)) out.info(line);
    followed.set(d.id, d);
    return allDone();
  };

  const onEnvironment = async (e: Environment): Promise<boolean> => {
    if (!inScope(e.name)) return false;
    for (const line of environmentChanges(envs.get(e.name) ?? null, e)) out.info(line);
    envs.set(e.name, e);
    const a = e.activeDeployment;
    if (a && !followed.has(a.id) && !allDone()) {
      return onDeployment(await readDeployment(ctx, a.id));
    }
    return false;
  };

  const resync = async (): Promise<boolean> => {
    const list = envName ? [await readEnvironment(ctx, envName)] : (await readEnvironments(ctx)).items;
    if (envs.size === 0 && !out.json) out.info(environmentsTable(list, style));
    let done = false;
    for (const e of list) done = (await onEnvironment(e)) || done;
    // Followed deployments may have finished while the stream was down: read them again.
    for (const [id, d] of followed) {
      if (d && isTerminal(d.status)) continue;
      done = onDeployment(await readDeployment(ctx, id)) || done;
    }
    if (followed.size === 0 && !announcedWaiting) {
      announcedWaiting = true;
      out.info(
        `no deployment running${envName ? ` in ${envName}` : ''}; waiting for the next one (Ctrl-C to stop)`,
      );
    }
    return done || allDone();
  };

  const topic = envName ? `environment:${ctx.app}/${envName}` : `application:${ctx.app}`;
  try {
    await watchStream({
      server: ctx.server,
      credential: ctx.credential,
      topics: [topic],
      onEvent: async (event, data) => {
        const d = deploymentOf(event, data);
        if (d) return onDeployment(d);
        const e = environmentOf(event, data);
        return e ? onEnvironment(e) : false;
      },
      resync,
      note: (line) => out.warn(line),
    });
  } catch (err) {
    if (err instanceof CliError && err.exitCode === ExitCode.Interrupted && followed.size === 0) {
      out.result({ application: ctx.app, environments: [...envs.values()], deployments: [] }, () => '');
      return ExitCode.Ok;
    }
    throw err;
  }
  const deployments = [...followed.values()].filter((d): d is Deployment => d !== null);
  out.result({ application: ctx.app, environments: [...envs.values()], deployments }, () =>
    deployments.map((d) => `deployment ${d.id} (${d.environment}) ${d.status}`).join('\n'),
  );
  const failed = deployments.find((d) => exitCodeForDeployment(d.status) !== ExitCode.Ok);
  return failed ? ExitCode.DeploymentFailed : ExitCode.Ok;
}
