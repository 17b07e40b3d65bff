import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from './exit-utils.ts';
import { run } from './main.ts';

let closedPort = 0;
beforeAll(async () => {
  // A port that was just free: connecting to it is refused.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closedPort = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
});

/** Runs the CLI in-process with captured output; none of these cases reach a server. */
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on('data', (d: Buffer) => chunks.stdout.push(d));
  stderr.on('data', (d: Buffer) => chunks.stderr.push(d));
  const code = await run(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    // An unreachable server: any request would fail with 7, which these tests would notice.
    env: { HOME: '/nonexistent', QUBOT_SERVER: `http://127.0.0.1:${closedPort}`, QUBOT_RETRIES: '0', ...env },
  });
  return {
    code,
    stdout: Buffer.concat(chunks.stdout).toString(),
    stderr: Buffer.concat(chunks.stderr).toString(),
  };
}

describe('[CLI] commands and usage errors', () => {
  it('prints the command list and the exit codes', async () => {
    const { code, stdout } = await cli(['help']);
    expect(code).toBe(ExitCode.Ok);
    for (const c of [
      'release create',
      'deploy <env>',
      'promote <env>',
      'rollback <env>',
      'traffic <env>',
      'status [<env>]',
    ])
      expect(stdout).toContain(c);
    expect(stdout).toContain('6  with --wait');
  });

  it('prints per-command help with --help and with help <command>', async () => {
    const a = await cli(['deploy', '--help']);
    const b = await cli(['help', 'deploy']);
    expect(a.code).toBe(ExitCode.Ok);
    expect(a.stdout).toContain('Usage: qubot deploy <env> --version V --strategy S [flags]');
    expect(a.stdout).toBe(b.stdout);
  });

  it('exits 2 without a command and with an unknown one', async () => {
    expect((await cli([])).code).toBe(ExitCode.Usage);
    const r = await cli(['deploi']);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toContain('unknown command "deploi"');
    const s = await cli(['deployment', 'pauze', 'x']);
    expect(s.stderr).toContain('did you mean');
  });

  it.each([
    [['deploy', 'staging', '--version', '1.0.0'], 'missing required flag --strategy'],
    [['deploy', 'staging', '--version', '1.0.0', '--strategy', 'yolo'], '--strategy must be one of'],
    [['deploy', '--version', '1.0.0', '--strategy', 'canary'], 'missing <env>'],
    [['deploy', 'staging', 'extra', '--version', '1', '--strategy', 'canary'], 'unexpected argument "extra"'],
    [
      ['deploy', 'staging', '--version', '1', '--strategy', 'canary', '--timeout', '5'],
      '--timeout only applies with --wait',
    ],
    [['deploy', 'staging', '--bogus'], "Unknown option '--bogus'"],
    [['traffic', 'staging'], 'missing --color blue|green or --weights'],
    [['traffic', 'staging', '--color', 'blue', '--weights', 'blue=100'], 'either --color or --weights'],
    [['traffic', 'staging', '--color', 'purple'], '--color must be blue or green'],
    [['release', 'create', '--version', '1.0.0'], 'missing required flag --artifact'],
    [
      ['release', 'create', '--version', '1.0.0', '--artifact', 'rm -rf /'],
      '--artifact "rm -rf /" is not a valid',
    ],
    [
      ['release', 'create', '--version', '1', '--artifact', 'a', '--changelog-file', '/nonexistent/x'],
      '--changelog-file',
    ],
    [['promote', 'production', '--override'], '--override needs --reason'],
    [
      ['deploy', 'production', '--version', '1', '--strategy', 'canary', '--override-freeze'],
      '--override-freeze needs --reason',
    ],
    [['promote', 'production', '--override-freeze'], '--override-freeze needs --reason'],
    [['rollback', 'production', '--override-freeze', '--reason', '  '], '--override-freeze needs --reason'],
    [['deployment', 'pause', 'not-an-id'], 'not a valid id'],
    [['deployments', '--status', 'done'], '--status must be one of'],
    [['apps', '--server', 'nope'], '--server must be a URL'],
    [['apps', '--app', 'Bad App'], '--app "Bad App" is not a valid application name'],
    [['login'], 'missing --username (no terminal to prompt on)'],
  ])('exits 2 naming the flag: %j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(ExitCode.Usage);
  });

  it('puts the error on stdout as one JSON document with --json', async () => {
    const r = await cli(['traffic', 'staging', '--json']);
    expect(r.code).toBe(ExitCode.Usage);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'usage' }, exitCode: 2 });
  });

  it('exits 3 before any request when whoami has no credential', async () => {
    const r = await cli(['whoami']);
    expect(r.code).toBe(ExitCode.Auth);
    expect(r.stderr).toContain('not signed in');
  });

  it('exits 7 when the server cannot be reached', async () => {
    const r = await cli(['apps']);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.stderr).toContain(`cannot reach http://127.0.0.1:${closedPort}: ECONNREFUSED`);
  });
});

describe('[CLI] freeze windows', () => {
  it('sends overrideFreeze: true and turns a 409 environment_frozen into exit 5 with the server’s message', async () => {
    const seen: { url: string | undefined; body: unknown }[] = [];
    const message =
      'environment production is frozen: "Black Friday" (until 2025-11-29T06:00:00.000Z); an admin can override with a reason';
    const server = createHttpServer(async (req: IncomingMessage, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      seen.push({ url: req.url, body: raw ? JSON.parse(raw) : null });
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'environment_frozen', message, details: { reason: 'frozen' } },
          requestId: 'req-frozen',
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const env = {
        QUBOT_SERVER: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        QUBOT_TOKEN: 'qbt_test',
      };
      const commands = [
        ['deploy', 'production', '--version', '1.2.4', '--strategy', 'blue-green'],
        ['promote', 'production'],
        ['rollback', 'production'],
      ];
      for (const argv of commands) {
        const r = await cli([...argv, '--override-freeze', '--reason', 'INC-7'], env);
        expect(r.code).toBe(ExitCode.Conflict);
        expect(r.stderr).toContain(`error: ${message}`);
        expect(r.stderr).toContain('request id: req-frozen');
      }
      expect(seen.map((s) => s.url)).toEqual([
        '/api/v1/apps/qubot-one/environments/production/deployments',
        '/api/v1/apps/qubot-one/environments/production/promote',
        '/api/v1/apps/qubot-one/environments/production/rollback',
      ]);
      for (const s of seen) expect(s.body).toMatchObject({ overrideFreeze: true, reason: 'INC-7' });

      // Without the flag nothing extra is sent, and the refusal says how to override.
      const plain = await cli(['rollback', 'production'], env);
      expect(plain.code).toBe(ExitCode.Conflict);
      expect(plain.stderr).toContain('--override-freeze');
      expect(seen.at(-1)?.body).toEqual({});
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
