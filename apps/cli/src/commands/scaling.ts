import { parseName, parsePositiveInt, parseStrategy, required, str } from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { ExitCode, UsageError } from '../exit-utils.ts';
import { environmentDetail } from '../format-utils.ts';
import { parseCpus, parseMemoryMb } from '../scaling-utils.ts';
import { REASON, reasonBody, reportDeployment, WAIT, waitSettings } from './shared.ts';

/**
 * `<env>` (the application from --app / QUBOT_APP, as every command) or `<app> <env>`; an app
 * given both ways must agree.
 */
function appAndEnv(ctx: Context): { app: string; env: string } {
  const [first, second, extra] = ctx.args;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  if (second === undefined)
    return { app: ctx.app, env: parseName(first, '<env> (the environment, e.g. staging)') };
  const app = parseName(first, '<app>');
  if (ctx.values.app !== undefined && app !== ctx.app)
    throw new UsageError(`<app> ${JSON.stringify(app)} and --app ${JSON.stringify(ctx.app)} disagree`);
  return { app, env: parseName(second, '<env> (the environment, e.g. staging)') };
}

const NOTHING_LIVE = 'nothing is live there: the next deployment uses it';

export const scale: Command = {
  name: ['scale'],
  summary: "Change an environment's replica count now (a scale deployment of the live release)",
  args: '[<app>] <env>',
  options: {
    replicas: { type: 'string', value: 'N', description: 'The new replica count (required)' },
    ...REASON,
    ...WAIT,
  },
  examples: [
    'qubot scale staging --replicas 4 --wait',
    'qubot scale qubot-one production --replicas 6 --reason "launch traffic"',
  ],
  details:
    'Exit 5 while another deployment or scale is active there. With --wait: 0 when the scale succeeded, 6 when it failed (it returns to the count it started from).',
  async run(ctx) {
    const { app, env } = appAndEnv(ctx);
    const wait = waitSettings(ctx);
    const replicas = parsePositiveInt(required(ctx.values, 'replicas'), 'replicas') as number;
    const res = await ctx.client.call('POST /api/v1/apps/:app/environments/:env/scale', {
      params: { app, env },
      body: { replicas, ...reasonBody(ctx) },
    });
    if (res.deployment) return reportDeployment(ctx, res.deployment, `scaling to ${res.replicas}`, wait);
    ctx.out.result(res, () => `replicas of ${app}/${env} set to ${res.replicas} (${NOTHING_LIVE})`);
    return ExitCode.Ok;
  },
};

export const resources: Command = {
  name: ['resources'],
  summary: 'Change the per-instance CPU and memory limits of an environment (rolls the instances)',
  args: '[<app>] <env>',
  options: {
    cpu: {
      type: 'string',
      value: 'CPUS',
      description: 'CPU limit per instance in CPUs (0.5 = half of one); "none" lifts it',
    },
    memory: {
      type: 'string',
      value: 'SIZE',
      description: 'Memory limit per instance: MiB (256), or 256Mi / 1Gi; "none" lifts it',
    },
    strategy: {
      type: 'string',
      value: 'S',
      description: 'How the instances roll: blue-green | rolling | canary (default rolling)',
    },
    ...REASON,
    ...WAIT,
  },
  examples: [
    'qubot resources staging --cpu 0.5 --memory 256Mi --wait',
    'qubot resources qubot-one production --memory 1Gi --strategy blue-green --reason "CHG-7"',
    'qubot resources development --cpu none',
  ],
  details:
    'An option left out keeps its limit. On a live environment the change is a deployment of the live release that replaces every instance; the same limits again change nothing. Exit 5 while another deployment is active (nothing changes). With --wait: 0 when the deployment succeeded, 6 otherwise.',
  async run(ctx) {
    const { app, env } = appAndEnv(ctx);
    const wait = waitSettings(ctx);
    const cpu = str(ctx.values, 'cpu');
    const memory = str(ctx.values, 'memory');
    if (cpu === undefined && memory === undefined) throw new UsageError('give --cpu, --memory or both');
    const strategy = parseStrategy(str(ctx.values, 'strategy'));
    const res = await ctx.client.call('PUT /api/v1/apps/:app/environments/:env/resources', {
      params: { app, env },
      body: {
        ...(cpu === undefined ? {} : { cpus: parseCpus(cpu) }),
        ...(memory === undefined ? {} : { memoryMb: parseMemoryMb(memory) }),
        ...(strategy ? { strategy } : {}),
        ...reasonBody(ctx),
      },
    });
    const note = res.enforced ? '' : `\nnot enforced here: ${res.notEnforcedReason ?? 'unknown reason'}`;
    if (res.deployment) {
      if (!res.enforced) ctx.out.warn(note.trim());
      return reportDeployment(ctx, res.deployment, 'rolling the instances to the new limits', wait);
    }
    ctx.out.result(
      res,
      () =>
        `limits of ${app}/${env} ${res.environment.live ? 'unchanged (nothing to roll)' : `stored (${NOTHING_LIVE})`}${note}\n${environmentDetail(res.environment, ctx.out.style)}`,
    );
    return ExitCode.Ok;
  },
};
