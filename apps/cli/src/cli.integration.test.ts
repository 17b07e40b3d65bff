import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/app.ts';
import { createCliRunner } from './cli-process.ts';
import { ExitCode } from './exit-utils.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
let server: string;
let token: string;
let home: string;

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as { port: number };
  server = `http://127.0.0.1:${port}`;
  // CI authenticates with an API token: an admin creates one for a release manager.
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: await t.as('admin'),
    payload: { name: 'cli test', role: 'release-manager' },
  });
  expect(res.statusCode).toBe(201);
  token = res.json().secret;
  home = await mkdtemp(join(tmpdir(), 'qubot-cli-home-'));
});
afterAll(async () => {
  cli.killAll();
  await t?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Runs bin/qubot.mjs as a child process from another directory, as CI would. */
const cli = createCliRunner(() => ({ HOME: home, QUBOT_SERVER: server, QUBOT_TOKEN: token }));
const qubot = cli.run;

describe('[CLI] against the real API', () => {
  it('lists applications as JSON', async () => {
    const r = await qubot(['apps', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.Ok);
    const body = JSON.parse(r.stdout);
    expect(body.items.map((a: { name: string }) => a.name)).toEqual(['qubot-one']);
  });

  it('shows the environment pipeline as a table', async () => {
    const r = await qubot(['envs']);
    expect(r.code).toBe(ExitCode.Ok);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ENVIRONMENT\s+LIVE/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['development', 'staging', 'production']);
    // No colour escapes when stdout is not a terminal.
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('registers a release (201), then again idempotently (200), then refuses another artifact (5)', async () => {
    const args = [
      'release',
      'create',
      '--version',
      '9.9.9',
      '--artifact',
      'qubot-one/healthy',
      '--commit',
      'abc123',
    ];
    const first = await qubot([...args, '--json', '--changelog-file', '-'], { stdin: '- fixed things\n' });
    expect(first.code).toBe(ExitCode.Ok);
    expect(JSON.parse(first.stdout)).toMatchObject({
      created: true,
      release: {
        version: '9.9.9',
        artifact: 'qubot-one/healthy',
        commit: 'abc123',
        changelog: '- fixed things\n',
      },
    });
    const again = await qubot(args);
    expect(again.code).toBe(ExitCode.Ok);
    expect(again.stdout).toContain('already registered');
    const clash = await qubot(['release', 'create', '--version', '9.9.9', '--artifact', 'qubot-one/other']);
    expect(clash.code).toBe(ExitCode.Conflict);
    expect(clash.stderr).toMatch(/request id: \S+/);

    const list = await qubot(['releases', '--json', '--limit', '50']);
    expect(JSON.parse(list.stdout).items.map((r: { version: string }) => r.version)).toContain('9.9.9');
  });

  it('exits 4 with the server message and request id for an unknown environment', async () => {
    const r = await qubot(['status', 'nowhere']);
    expect(r.code).toBe(ExitCode.NotFound);
    expect(r.stderr).toMatch(/^error: .*nowhere.*not found/m);
    expect(r.stderr).toMatch(/^request id: \S+$/m);
    expect(r.stdout).toBe('');
  });

  it('exits 3 without credentials and with a bad token', async () => {
    const none = await qubot(['apps'], { env: { QUBOT_TOKEN: undefined } });
    expect(none.code).toBe(ExitCode.Auth);
    expect(none.stderr).toContain('hint: run qubot login');
    const bad = await qubot(['envs', '--json'], { env: { QUBOT_TOKEN: 'qbt_not-a-real-token' } });
    expect(bad.code).toBe(ExitCode.Auth);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'unauthenticated' }, exitCode: 3 });
  });

  it('signs in with a password, keeps the session in a 600 file, and signs out', async () => {
    const env = { QUBOT_TOKEN: undefined };
    const login = await qubot(['login', '-u', 'viewer', '--password-stdin'], { env, stdin: 'demo-viewer\n' });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(ExitCode.Ok);
    const path = join(home, '.config', 'qubot', 'config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(path, 'utf8'));
    expect(stored.server).toBe(server);
    expect(stored.credentials[server]).toMatchObject({ kind: 'session', username: 'viewer' });

    const me = await qubot(['whoami', '--json'], { env });
    expect(JSON.parse(me.stdout)).toMatchObject({ username: 'viewer', role: 'viewer', kind: 'user' });
    // A viewer may read but not deploy: the session's CSRF token is sent and the refusal is exit 3.
    const denied = await qubot(['deploy', 'development', '--version', '9.9.9', '--strategy', 'rolling'], {
      env,
    });
    expect(denied.code).toBe(ExitCode.Auth);

    const out = await qubot(['logout'], { env });
    expect(out.code).toBe(ExitCode.Ok);
    expect(JSON.parse(await readFile(path, 'utf8')).credentials).toEqual({});
    expect((await qubot(['whoami'], { env })).code).toBe(ExitCode.Auth);

    const wrong = await qubot(['login', '-u', 'viewer', '--password', 'wrong-password'], { env });
    expect(wrong.code).toBe(ExitCode.Auth);
  });

  it('deploys, refuses a second active deployment (5), and --wait ends with 6 when it is aborted', async () => {
    await qubot(['release', 'create', '--version', '9.9.9', '--artifact', 'qubot-one/healthy']);
    let deploymentId: string | undefined;
    let sawStart: () => void = () => {};
    const started = new Promise<void>((r) => {
      sawStart = r;
    });
    const waiting = qubot(
      [
        'deploy',
        'development',
        '--version',
        '9.9.9',
        '--strategy',
        'rolling',
        '--wait',
        '--reason',
        'cli test',
      ],
      {
        onStdout: (text) => {
          const m = /deployment started: deployment ([0-9a-f-]{36})/.exec(text);
          if (m && /^status: |— pending|— running/m.test(text)) {
            deploymentId = m[1];
            sawStart();
          }
        },
      },
    );
    await started;
    const clash = await qubot(['deploy', 'development', '--version', '9.9.9', '--strategy', 'rolling']);
    expect(clash.code).toBe(ExitCode.Conflict);

    const abort = await qubot(['deployment', 'abort', deploymentId!, '--reason', 'stop', '--json']);
    expect(abort.code).toBe(ExitCode.Ok);
    const r = await waiting;
    expect(r.stdout).toContain(`deployment ${deploymentId} aborted`);
    expect(r.code).toBe(ExitCode.DeploymentFailed);

    const history = await qubot(['deployments', '--env', 'development', '--json']);
    expect(JSON.parse(history.stdout).items[0]).toMatchObject({ id: deploymentId, status: 'aborted' });
  });

  it('a protected environment needs --reason (400 naming body.reason, with a hint); --override needs it too and is audited', async () => {
    // An admin's token: only admins may go past the promotion order.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: await t.as('admin'),
      payload: { name: 'cli admin', role: 'admin' },
    });
    expect(res.statusCode).toBe(201);
    const env = { QUBOT_TOKEN: res.json().secret as string };
    await qubot(['release', 'create', '--version', '9.9.8', '--artifact', 'qubot-one/healthy'], { env });
    const deploy = ['deploy', 'production', '--version', '9.9.8', '--strategy', 'blue-green'];

    const noReason = await qubot([...deploy, '--json'], { env });
    expect(noReason.code).toBe(ExitCode.Usage);
    expect(JSON.parse(noReason.stdout)).toMatchObject({ error: { details: { field: 'body.reason' } } });
    expect(noReason.stderr).toMatch(/body\.reason: is required: production is a protected environment/);
    expect(noReason.stderr).toContain('hint: pass --reason');

    // Refused before anything is sent: --override without a reason.
    const overrideOnly = await qubot([...deploy, '--override'], { env });
    expect(overrideOnly.code).toBe(ExitCode.Usage);
    expect(overrideOnly.stderr).toContain('--override needs --reason');

    // Without --override the promotion order refuses (9.9.8 never ran in staging) ...
    const refused = await qubot([...deploy, '--reason', 'INC-9'], { env });
    expect(refused.code).toBe(ExitCode.Conflict);
    // ... with it, the admin goes past it, audited as promotion.override with the reason.
    const ok = await qubot([...deploy, '--override', '--reason', 'INC-9: hotfix', '--json'], { env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(ExitCode.Ok);
    const created = JSON.parse(ok.stdout);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=promotion.override',
      headers: await t.as('admin'),
    });
    expect(audit.json().items[0]).toMatchObject({ action: 'promotion.override', reason: 'INC-9: hotfix' });

    // Controlling it on production needs a reason as well.
    const abortBare = await qubot(['deployment', 'abort', created.id], { env });
    expect(abortBare.code).toBe(ExitCode.Usage);
    expect(abortBare.stderr).toContain('hint: pass --reason');
    const abort = await qubot(['deployment', 'abort', created.id, '--reason', 'test over'], { env });
    expect(abort.code).toBe(ExitCode.Ok);
  });

  it('status --watch waits for the next deployment in an environment and follows it to the end', async () => {
    const headers = await t.as('release-manager');
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/releases',
      headers,
      payload: { version: '9.9.8', artifact: 'qubot-one/healthy' },
    });
    let sawWaiting: () => void = () => {};
    const waitingShown = new Promise<void>((r) => {
      sawWaiting = r;
    });
    const watch = qubot(['status', 'development', '--watch'], {
      onStdout: (text) => {
        if (text.includes('no deployment running in development')) sawWaiting();
      },
    });
    await waitingShown;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/apps/qubot-one/environments/development/deployments',
      headers,
      payload: { version: '9.9.8', strategy: 'canary' },
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().id as string;
    const abort = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${id}/abort`,
      headers,
      payload: {},
    });
    expect(abort.statusCode).toBe(200);

    const r = await watch;
    expect(r.stdout).toContain(`deployment ${id}: deploy 9.9.8 to development (canary)`);
    expect(r.stdout).toMatch(/status: \w+ → aborted/);
    expect(r.code).toBe(ExitCode.DeploymentFailed);
  });
});
