import type { DeploymentStatus } from '@qubot/api-contract';
import {
  list,
  type OptionSpecs,
  parseColor,
  parseId,
  parseName,
  parseOptionPairs,
  parsePositiveInt,
  parseStrategy,
  parseWeights,
  required,
  str,
} from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { ExitCode, UsageError } from '../exit-utils.ts';
import { deploymentDetail, deploymentsTable, environmentDetail } from '../format-utils.ts';
import {
  OVERRIDE_FREEZE,
  overrideFreezeBody,
  REASON,
  readDeployment,
  reasonBody,
  reportDeployment,
  WAIT,
  waitSettings,
} from './shared.ts';

const FROZEN = 'Exit 5 when a freeze window is active (the server says which and until when).';

const OPTION = {
  option: {
    type: 'string',
    multiple: true,
    value: 'KEY=VALUE',
    description:
      'Strategy option; JSON values are parsed (steps=[10,50,100], autoSwitch=false, maxSurge=25%)',
  },
} as const satisfies OptionSpecs;

function optionsBody(ctx: Context): { options?: Record<string, unknown> } {
  const options = parseOptionPairs(list(ctx.values, 'option'));
  return Object.keys(options).length > 0 ? { options } : {};
}

/** `override: true` for --override (past the promotion order), which needs a non-blank --reason. */
function overrideBody(ctx: Context): { override?: true } {
  if (ctx.values.override !== true) return {};
  if (!str(ctx.values, 'reason')?.trim()) throw new UsageError('--override needs --reason (it is audited)');
  return { override: true };
}

/** The single `<env>` argument of deploy, promote, rollback and traffic. */
function envArg(ctx: Context): string {
  const [env, extra] = ctx.args;
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  return parseName(env, '<env> (the environment, e.g. staging)');
}

export const deploy: Command = {
  name: ['deploy'],
  summary: 'Deploy a registered release to an environment',
  args: '<env>',
  options: {
    version: { type: 'string', value: 'V', description: 'Release version (required)' },
    strategy: {
      type: 'string',
      value: 'S',
      description: 'blue-green | rolling | canary (required)',
    },
    ...OPTION,
    override: {
      type: 'boolean',
      description:
        'Admins, with --reason: deploy although the release has not succeeded in the previous environment (audited)',
    },
    ...REASON,
    ...OVERRIDE_FREEZE,
    ...WAIT,
  },
  examples: [
    'qubot deploy development --version 1.2.3 --strategy blue-green --wait',
    'qubot deploy staging --version 1.2.3 --strategy canary --option steps=[10,25,50,100] --option stepDurationSeconds=60',
    'qubot deploy production --version 1.2.3 --strategy rolling --option maxSurge=1 --reason "CHG-42"',
    'qubot deploy production --version 1.2.4 --strategy blue-green --override-freeze --reason "hotfix INC-7"',
    'qubot deploy production --version 1.2.5 --strategy blue-green --override --reason "INC-9: skip staging"',
  ],
  details: `Exit 5 when the environment already has an active deployment. ${FROZEN}`,
  async run(ctx) {
    const env = envArg(ctx);
    const wait = waitSettings(ctx);
    const strategy = parseStrategy(required(ctx.values, 'strategy'));
    const override = overrideBody(ctx);
    const freeze = overrideFreezeBody(ctx.values);
    const started = await ctx.client.call('POST /api/v1/apps/:app/environments/:env/deployments', {
      params: { app: ctx.app, env },
      body: {
        version: required(ctx.values, 'version'),
        strategy,
        ...optionsBody(ctx),
        ...override,
        ...reasonBody(ctx),
        ...freeze,
      },
    });
    return reportDeployment(ctx, started, 'deployment started', wait);
  },
};

export const promote: Command = {
  name: ['promote'],
  summary: 'Deploy to <env> the release live in the environment before it',
  args: '<env>',
  options: {
    strategy: {
      type: 'string',
      value: 'S',
      description: 'blue-green | rolling | canary (default: the environment’s)',
    },
    ...OPTION,
    override: {
      type: 'boolean',
      description: 'Admins, with --reason: promote although the release has not succeeded upstream',
    },
    ...REASON,
    ...OVERRIDE_FREEZE,
    ...WAIT,
  },
  examples: [
    'qubot promote staging --wait',
    'qubot promote production --strategy canary --reason "release 1.2.3"',
  ],
  details: `Exit 5 when promotion is not allowed (e.g. the release has not succeeded in the previous environment). ${FROZEN}`,
  async run(ctx) {
    const env = envArg(ctx);
    const wait = waitSettings(ctx);
    const strategy = parseStrategy(str(ctx.values, 'strategy'));
    const override = overrideBody(ctx);
    const freeze = overrideFreezeBody(ctx.values);
    const started = await ctx.client.call('POST /api/v1/apps/:app/environments/:env/promote', {
      params: { app: ctx.app, env },
      body: {
        ...(strategy ? { strategy } : {}),
        ...optionsBody(ctx),
        ...override,
        ...reasonBody(ctx),
        ...freeze,
      },
    });
    return reportDeployment(ctx, started, 'promotion started', wait);
  },
};

export const rollback: Command = {
  name: ['rollback'],
  summary: 'Roll <env> back to the previous successful release (or --version)',
  args: '<env>',
  options: {
    version: {
      type: 'string',
      value: 'V',
      description: 'Release to go back to (default: the previous successful one)',
    },
    ...REASON,
    ...OVERRIDE_FREEZE,
    ...WAIT,
  },
  examples: [
    'qubot rollback production --reason "errors after 1.2.3" --wait',
    'qubot rollback staging --version 1.2.1',
    'qubot rollback production --override-freeze --reason "INC-7: 1.2.3 corrupts orders"',
  ],
  details: `${FROZEN} Rolling back a deployment in progress is not a new deployment: a freeze window does not block it.`,
  async run(ctx) {
    const env = envArg(ctx);
    const wait = waitSettings(ctx);
    const version = str(ctx.values, 'version');
    const freeze = overrideFreezeBody(ctx.values);
    const started = await ctx.client.call('POST /api/v1/apps/:app/environments/:env/rollback', {
      params: { app: ctx.app, env },
      body: { ...(version ? { version } : {}), ...reasonBody(ctx), ...freeze },
    });
    return reportDeployment(ctx, started, 'rollback started', wait);
  },
};

/** `--color` or `--weights`, exactly one: the traffic body of DESIGN §6. */
export function trafficBody(color: string | undefined, weights: string | undefined) {
  if (color !== undefined && weights !== undefined)
    throw new UsageError('use either --color or --weights, not both');
  if (color !== undefined) return { activeColor: parseColor(color) };
  if (weights !== undefined) return { weights: parseWeights(weights) };
  throw new UsageError('missing --color blue|green or --weights blue=90,green=10');
}

export const traffic: Command = {
  name: ['traffic'],
  summary: "Switch an environment's traffic to a colour, or set weights",
  args: '<env>',
  options: {
    color: { type: 'string', value: 'blue|green', description: 'Send all traffic to this colour' },
    weights: {
      type: 'string',
      value: 'blue=N,green=M',
      description: 'Split traffic by weight (adds up to 100)',
    },
    ...REASON,
  },
  examples: [
    'qubot traffic production --color green --reason "switch to 1.2.3"',
    'qubot traffic staging --weights blue=90,green=10',
  ],
  details:
    'With a blue-green deployment waiting for its switch, switching to the new colour performs that switch (the deployment continues); otherwise traffic moves between the running colours.',
  async run(ctx) {
    const env = envArg(ctx);
    const body = { ...trafficBody(str(ctx.values, 'color'), str(ctx.values, 'weights')), ...reasonBody(ctx) };
    const res = await ctx.client.respond('POST /api/v1/apps/:app/environments/:env/traffic', {
      params: { app: ctx.app, env },
      body,
    });
    ctx.out.result(res.data, () =>
      [
        res.status === 202
          ? 'switching: the waiting blue-green deployment takes the switch'
          : 'traffic updated',
        environmentDetail(res.data, ctx.out.style),
      ].join('\n'),
    );
    return ExitCode.Ok;
  },
};

const ACTIONS = {
  pause: 'Pause a running deployment',
  resume: 'Resume a paused deployment',
  abort: 'Abort a deployment (returns to the old release)',
  advance: 'Advance a held step (canary step, blue-green switch)',
  approve: 'Approve a deployment waiting for approval',
} as const;

type Action = keyof typeof ACTIONS;

export const deploymentActions: Command[] = (Object.entries(ACTIONS) as [Action, string][]).map(
  ([action, summary]) => ({
    name: ['deployment', action],
    summary,
    args: '<id>',
    options: { ...REASON },
    examples: [`qubot deployment ${action} 0b5c…-… --reason "…"`],
    async run(ctx: Context) {
      const [idArg, extra] = ctx.args;
      if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
      const id = parseId(idArg);
      const d = await ctx.client.call(`POST /api/v1/deployments/:id/${action}`, {
        params: { id },
        body: reasonBody(ctx),
      });
      ctx.out.result(d, () => `${action}: ${deploymentDetail(d, ctx.out.style)}`);
      return ExitCode.Ok;
    },
  }),
);

export const deploymentShow: Command = {
  name: ['deployment', 'show'],
  summary: 'Show one deployment with its steps',
  args: '<id>',
  options: { ...WAIT },
  examples: ['qubot deployment show 0b5c…', 'qubot deployment show 0b5c… --wait'],
  async run(ctx) {
    const [idArg, extra] = ctx.args;
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    const id = parseId(idArg);
    const wait = waitSettings(ctx);
    const d = await readDeployment(ctx, id);
    if (wait.wait) return reportDeployment(ctx, d, 'following', wait);
    ctx.out.result(d, () => deploymentDetail(d, ctx.out.style));
    return ExitCode.Ok;
  },
};

const STATUSES = ['pending', 'running', 'paused', 'succeeded', 'failed', 'rolled_back', 'aborted'] as const;
const isStatus = (value: string): value is DeploymentStatus =>
  (STATUSES as readonly string[]).includes(value);

export const deployments: Command = {
  name: ['deployments'],
  summary: 'Deployment history of the application, newest first',
  options: {
    env: { type: 'string', value: 'ENV', description: 'Only this environment' },
    status: { type: 'string', value: 'STATUS', description: STATUSES.join(' | ') },
    limit: { type: 'string', value: 'N', description: 'How many (1-200, default 20)' },
    cursor: { type: 'string', value: 'CURSOR', description: 'Next page, from a previous --json answer' },
  },
  examples: ['qubot deployments', 'qubot deployments --env production --status failed --json'],
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(ctx.args[0])}`);
    const env = str(ctx.values, 'env');
    const status = str(ctx.values, 'status');
    if (env !== undefined) parseName(env, '--env');
    if (status !== undefined && !isStatus(status))
      throw new UsageError(`--status must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(status)})`);
    const limit = parsePositiveInt(str(ctx.values, 'limit'), 'limit', 200) ?? 20;
    const res = await ctx.client.call('GET /api/v1/deployments', {
      query: { app: ctx.app, env, status, limit, cursor: str(ctx.values, 'cursor') },
    });
    ctx.out.result(res, () => {
      if (res.items.length === 0) return 'no deployments';
      const more = res.nextCursor ? `\n(more: --cursor ${res.nextCursor})` : '';
      return deploymentsTable(res.items, ctx.out.style) + more;
    });
    return ExitCode.Ok;
  },
};
