import { readFile } from 'node:fs/promises';
import type { CreateReleaseBody } from '@qubot/api-contract';
import { parsePositiveInt, required, str } from '../args-utils.ts';
import type { Command, Context } from '../command.ts';
import { ExitCode, UsageError } from '../exit-utils.ts';
import { releasesTable, shortTime } from '../format-utils.ts';
import { readAll } from '../prompt.ts';

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
  };
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
  },
  examples: [
    'qubot release create --version 1.2.3 --artifact qubot-one/healthy',
    'qubot release create --version "$VERSION" --artifact qubot-one/healthy --commit "$GITHUB_SHA" --changelog-file CHANGELOG.md --build-url "$BUILD_URL"',
  ],
  details:
    'Exit 0 when created (HTTP 201) or already registered with the same artifact (200); 5 when the version exists with another artifact.',
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(ctx.args[0])}`);
    const changelogFile = str(ctx.values, 'changelog-file');
    const body = releaseBody({
      version: required(ctx.values, 'version'),
      artifact: required(ctx.values, 'artifact'),
      commit: str(ctx.values, 'commit'),
      buildUrl: str(ctx.values, 'build-url'),
      changelog: changelogFile === undefined ? undefined : await readChangelog(ctx, changelogFile),
    });
    const res = await ctx.client.respond('POST /api/v1/apps/:app/releases', {
      params: { app: ctx.app },
      body,
    });
    const created = res.status === 201;
    ctx.out.result({ created, release: res.data }, () =>
      created
        ? `registered ${ctx.app} ${res.data.version} (${res.data.artifact})`
        : `${ctx.app} ${res.data.version} was already registered with this artifact; nothing changed`,
    );
    return ExitCode.Ok;
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
