import { readFile } from 'node:fs/promises';
import type { CreateReleaseBody, TestResults } from '@qubot/api-contract';
import { type OptionSpecs, parseName, parsePositiveInt, required, str } from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { CliError, ExitCode, UsageError } from '../exit-utils.ts';
import { releasesTable, shortTime } from '../format-utils.ts';
import { readAll } from '../prompt.ts';
import { watchStream } from '../watch.ts';

async function readChangelog(ctx: Context, path: string): Promise<string> {
  try {
    return path === '-' ? await readAll(ctx.io.stdin) : await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--changelog-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** Checks what the server would reject anyway, so CI sees the flag at fault before any request. */
export function releaseBody(input: {
  version: string;
  artifact: string;
  commit?: string | undefined;
  changelog?: string | undefined;
  buildUrl?: string | undefined;
  testResults?: TestResults | undefined;
}): CreateReleaseBody {
  if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(input.version) || input.version.length > 64)
    throw new UsageError(
      `--version ${JSON.stringify(input.version)} is not a valid version (letters, digits, . + _ -)`,
    );
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$/.test(input.artifact) || input.artifact.length > 500)
    throw new UsageError(
      `--artifact ${JSON.stringify(input.artifact)} is not a valid artifact reference (a build path or image, never a command line)`,
    );
  if (input.commit !== undefined && input.commit.length > 64)
    throw new UsageError('--commit is longer than 64 characters');
  if (input.buildUrl !== undefined) {
    try {
      new URL(input.buildUrl);
    } catch {
      throw new UsageError(`--build-url ${JSON.stringify(input.buildUrl)} is not a URL`);
    }
  }
  if (input.changelog !== undefined && input.changelog.length > 20_000)
    throw new UsageError('--changelog-file is longer than 20000 characters');
  return {
    version: input.version,
    artifact: input.artifact,
    ...(input.commit ? { commit: input.commit } : {}),
    ...(input.changelog ? { changelog: input.changelog } : {}),
    ...(input.buildUrl ? { buildUrl: input.buildUrl } : {}),
    ...(input.testResults ? { testResults: input.testResults } : {}),
  };
}

const count = (value: string | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 1_000_000_000)
    throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a count (0 or more)`);
  return Number(value);
};

/** `--tests-passed N [--tests-failed N] [--tests-skipped N] [--tests-url URL]` → the release's testResults. */
export function testResultsOf(values: Context['values']): TestResults | undefined {
  const passed = count(str(values, 'tests-passed'), 'tests-passed');
  const failed = count(str(values, 'tests-failed'), 'tests-failed');
  const skipped = count(str(values, 'tests-skipped'), 'tests-skipped');
  const url = str(values, 'tests-url');
  if (passed === undefined) {
    if (failed !== undefined || skipped !== undefined || url !== undefined)
      throw new UsageError('--tests-failed, --tests-skipped and --tests-url need --tests-passed');
    return undefined;
  }
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      throw new UsageError(`--tests-url ${JSON.stringify(url)} is not a URL`);
    }
  }
  return {
    passed,
    failed: failed ?? 0,
    ...(skipped !== undefined ? { skipped } : {}),
    ...(url !== undefined ? { url } : {}),
  };
}

const TESTS: OptionSpecs = {
  'tests-passed': {
    type: 'string',
    value: 'N',
    description:
      "Tests that passed in CI (the first environment's automatic policy needs > 0 and none failed)",
  },
  'tests-failed': {
    type: 'string',
    value: 'N',
    description: 'Tests that failed (default 0 with --tests-passed)',
  },
  'tests-skipped': { type: 'string', value: 'N', description: 'Tests skipped' },
  'tests-url': { type: 'string', value: 'URL', description: 'Link to the test report' },
};

const WAIT_FOR: OptionSpecs = {
  wait: {
    type: 'string',
    value: 'ENV',
    description:
      'Wait until the release is live in ENV (the promotion policies move it there): exit 0 live, 8 waiting for approval in ENV, 6 failed on the way',
  },
  timeout: {
    type: 'string',
    value: 'SECONDS',
    description: 'With --wait: give up after this long (exit 1; nothing is cancelled)',
  },
};

const FAILED = new Set(['failed', 'rolled_back', 'aborted']);

/**
 * Follows the application's events until `version` is live in `env` (0), waits there for approval
 * (8), or a deployment of it failed on the way (6). Each event of the release re-reads its state
 * (GET release, GET environment), which is also how the watch goes on when the stream is down.
 */
export async function waitForRelease(
  ctx: Context,
  version: string,
  env: string,
  timeoutMs: number | undefined,
): Promise<number> {
  let outcome: { code: number; message: string } | null = null;
  const seen = new Map<string, string>();
  const check = async (): Promise<boolean> => {
    const [rel, target] = await Promise.all([
      ctx.client.call('GET /api/v1/apps/:app/releases/:version', { params: { app: ctx.app, version } }),
      ctx.client.call('GET /api/v1/apps/:app/environments/:env', { params: { app: ctx.app, env } }),
    ]);
    for (const d of rel.deployedTo) {
      const state = d.live ? 'live' : (d.lastStatus ?? '-');
      if (seen.get(d.environment) !== state) {
        seen.set(d.environment, state);
        ctx.out.info(`${version} in ${d.environment}: ${state}`);
      }
    }
    if (rel.deployedTo.some((d) => d.environment === env && d.live)) {
      outcome = { code: ExitCode.Ok, message: `${ctx.app} ${version} is live in ${env}` };
      return true;
    }
    const a = target.activeDeployment;
    if (a && a.version === version && a.status === 'paused' && a.waitingFor === 'approval') {
      outcome = {
        code: ExitCode.WaitingForApproval,
        message: `${ctx.app} ${version} reached ${env} and waits for approval (deployment ${a.id})`,
      };
      return true;
    }
    const failed = rel.deployedTo.find((d) => !d.live && d.lastStatus && FAILED.has(d.lastStatus));
    if (failed) {
      outcome = {
        code: ExitCode.DeploymentFailed,
        message: `${ctx.app} ${version} ${failed.lastStatus?.replace('_', ' ')} in ${failed.environment}; it will not reach ${env}`,
      };
      return true;
    }
    return false;
  };
  await watchStream({
    server: ctx.server,
    credential: ctx.credential,
    topics: [`application:${ctx.app}`],
    onEvent: (event, data) => {
      const d = data as { release?: { version?: string }; name?: string };
      const mine =
        (event.startsWith('deployment.') && d.release?.version === version) ||
        (event === 'environment.updated' && d.name === env);
      return mine ? check() : false;
    },
    resync: check,
    timeoutMs,
    onTimeout: () =>
      new CliError(`timed out waiting for ${ctx.app} ${version} to reach ${env}`, ExitCode.Error),
    note: (line) => ctx.out.warn(line),
  });
  const done = outcome as { code: number; message: string } | null;
  if (!done) throw new CliError('stopped before the release reached the environment');
  ctx.out.result(
    { version, environment: env, exitCode: done.code, message: done.message },
    () => done.message,
  );
  return done.code;
}

function waitTarget(ctx: Context): { env: string | undefined; timeoutMs: number | undefined } {
  const envName = str(ctx.values, 'wait');
  const env =
    envName === undefined ? undefined : parseName(envName, '--wait ENV (the environment to wait for)');
  const s = parsePositiveInt(str(ctx.values, 'timeout'), 'timeout', 7 * 24 * 3600);
  if (s !== undefined && env === undefined) throw new UsageError('--timeout only applies with --wait');
  return { env, timeoutMs: s === undefined ? undefined : s * 1000 };
}

export const releaseCreate: Command = {
  name: ['release', 'create'],
  summary: 'Register a release (idempotent: the same version and artifact again is a no-op)',
  options: {
    version: { type: 'string', value: 'V', description: 'Version, unique per application (required)' },
    artifact: {
      type: 'string',
      value: 'REF',
      description: 'What the launcher runs: a build path or image (required)',
    },
    commit: { type: 'string', value: 'SHA', description: 'Source commit' },
    'changelog-file': {
      type: 'string',
      value: 'PATH',
      description: 'Changelog text from a file ("-" for stdin)',
    },
    'build-url': { type: 'string', value: 'URL', description: 'Link to the CI build' },
    ...TESTS,
    ...WAIT_FOR,
  },
  examples: [
    'qubot release create --version 1.2.3 --artifact qubot-one/healthy',
    'qubot release create --version 1.2.3 --artifact qubot-one/healthy --tests-passed 412 --tests-failed 0 --wait staging --timeout 1800',
    'qubot release create --version "$VERSION" --artifact qubot-one/healthy --commit "$GITHUB_SHA" --changelog-file CHANGELOG.md --build-url "$BUILD_URL"',
  ],
  details:
    'Exit 0 when created (HTTP 201) or already registered with the same artifact (200); 5 when the version exists with another artifact. With --wait ENV: then 0 once live in ENV, 8 when it waits for approval there, 6 when a deployment of it failed on the way, 1 on --timeout.',
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(ctx.args[0])}`);
    const changelogFile = str(ctx.values, 'changelog-file');
    const body = releaseBody({
      version: required(ctx.values, 'version'),
      artifact: required(ctx.values, 'artifact'),
      commit: str(ctx.values, 'commit'),
      buildUrl: str(ctx.values, 'build-url'),
      changelog: changelogFile === undefined ? undefined : await readChangelog(ctx, changelogFile),
      testResults: testResultsOf(ctx.values),
    });
    const wait = waitTarget(ctx);
    const res = await ctx.client.respond('POST /api/v1/apps/:app/releases', {
      params: { app: ctx.app },
      body,
    });
    const created = res.status === 201;
    const said = created
      ? `registered ${ctx.app} ${res.data.version} (${res.data.artifact})`
      : `${ctx.app} ${res.data.version} was already registered with this artifact; nothing changed`;
    if (wait.env) {
      ctx.out.info(said);
      return waitForRelease(ctx, res.data.version, wait.env, wait.timeoutMs);
    }
    ctx.out.result({ created, release: res.data }, () => said);
    return ExitCode.Ok;
  },
};

export const releaseWait: Command = {
  name: ['release', 'wait'],
  summary: 'Wait until a release is live in an environment (moved there by the promotion policies)',
  args: '<version>',
  options: WAIT_FOR,
  examples: ['qubot release wait 1.2.3 --wait production --timeout 3600'],
  details:
    'Exit 0 once live in the environment, 8 when it waits for approval there, 6 when a deployment of it failed on the way, 1 on --timeout.',
  async run(ctx) {
    const [version, extra] = ctx.args;
    if (!version) throw new UsageError('missing <version>');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    const wait = waitTarget(ctx);
    if (!wait.env) throw new UsageError('missing required flag --wait ENV');
    return waitForRelease(ctx, version, wait.env, wait.timeoutMs);
  },
};

export const releaseShow: Command = {
  name: ['release', 'show'],
  summary: 'Show one release and where it is deployed',
  args: '<version>',
  options: {},
  examples: ['qubot release show 1.2.3'],
  async run(ctx) {
    const [version, extra] = ctx.args;
    if (!version) throw new UsageError('missing <version>');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    const r = await ctx.client.call('GET /api/v1/apps/:app/releases/:version', {
      params: { app: ctx.app, version },
    });
    ctx.out.result(r, () =>
      [
        `${ctx.out.style.bold(`${ctx.app} ${r.version}`)}  ${r.artifact}`,
        `  commit: ${r.commit ?? '-'}  build: ${r.buildUrl ?? '-'}`,
        `  created ${shortTime(r.createdAt)} by ${r.createdBy}`,
        `  deployed: ${
          r.deployedTo.map((d) => `${d.environment} ${d.live ? 'live' : (d.lastStatus ?? '-')}`).join(', ') ||
          '-'
        }`,
        ...(r.changelog ? ['', r.changelog.trimEnd()] : []),
      ].join('\n'),
    );
    return ExitCode.Ok;
  },
};

export const releases: Command = {
  name: ['releases'],
  summary: 'List releases, newest first',
  options: {
    limit: { type: 'string', value: 'N', description: 'How many (1-200, default 20)' },
    cursor: { type: 'string', value: 'CURSOR', description: 'Next page, from a previous --json answer' },
  },
  examples: ['qubot releases', 'qubot releases --limit 5 --json'],
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(ctx.args[0])}`);
    const limit = parsePositiveInt(str(ctx.values, 'limit'), 'limit', 200) ?? 20;
    const res = await ctx.client.call('GET /api/v1/apps/:app/releases', {
      params: { app: ctx.app },
      query: { limit, cursor: str(ctx.values, 'cursor') },
    });
    ctx.out.result(res, () => {
      if (res.items.length === 0) return `no releases of ${ctx.app} yet`;
      const more = res.nextCursor ? `\n(more: --cursor ${res.nextCursor})` : '';
      return releasesTable(res.items, ctx.out.style) + more;
    });
    return ExitCode.Ok;
  },
};
