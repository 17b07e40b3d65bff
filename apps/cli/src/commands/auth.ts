import type { Me } from '@qubot/api-contract';
import { ApiError, signIn } from '@qubot/client';
import { str } from '../args-utils.ts';
import { createClient } from '../client.ts';
import type { Command, Context } from '../command.ts';
import { type CliConfig, type Credential, saveConfig } from '../config.ts';
import { CliError, ExitCode, UsageError } from '../exit-utils.ts';
import { promptLine, readAll } from '../prompt.ts';

/** Stores a credential for the current server; remembers the server when it was given explicitly. */
async function store(ctx: Context, credential: Credential): Promise<void> {
  const config: CliConfig = {
    ...ctx.config,
    ...(ctx.serverGiven ? { server: ctx.server } : {}),
    credentials: { ...ctx.config.credentials, [ctx.server]: credential },
  };
  await saveConfig(ctx.configPath, config);
}

const describeMe = (me: Me) =>
  `${me.username} (${me.role}) signed in with ${me.kind === 'token' ? 'an API token' : 'a session'}` +
  (me.applications && me.applications.length > 0 ? `, limited to ${me.applications.join(', ')}` : '');

export const login: Command = {
  name: ['login'],
  summary: 'Sign in with a username and password; stores a session',
  options: {
    username: { type: 'string', short: 'u', value: 'NAME', description: 'Username (prompted when omitted)' },
    password: {
      type: 'string',
      value: 'PASSWORD',
      description:
        'Password (prompted when omitted; visible to other local users — prefer the prompt or --password-stdin)',
    },
    'password-stdin': { type: 'boolean', description: 'Read the password from stdin' },
  },
  examples: [
    'qubot login',
    'qubot login --server https://deploy.example.com -u alice',
    'echo "$PW" | qubot login -u ci --password-stdin',
  ],
  details:
    'The session is stored in ~/.config/qubot/config.json (mode 600), per server. CI should use an API token instead: qubot token set, or QUBOT_TOKEN.',
  async run(ctx) {
    const tty = ctx.io.stdin.isTTY === true;
    let username = str(ctx.values, 'username');
    let password = str(ctx.values, 'password');
    if (ctx.values['password-stdin'] === true) {
      if (password !== undefined) throw new UsageError('use either --password or --password-stdin, not both');
      if (username === undefined) throw new UsageError('--password-stdin needs --username');
      password = (await readAll(ctx.io.stdin)).replace(/\r?\n$/, '');
    }
    if (username === undefined) {
      if (!tty) throw new UsageError('missing --username (no terminal to prompt on)');
      username = (await promptLine(ctx.io, 'Username: ')).trim();
    }
    if (password === undefined) {
      if (!tty) throw new UsageError('missing --password or --password-stdin (no terminal to prompt on)');
      password = await promptLine(ctx.io, 'Password: ', true);
    }
    if (!username) throw new UsageError('the username is empty');
    if (!password) throw new UsageError('the password is empty');

    // Signing in must not carry an old credential along.
    const anonymous = createClient({
      server: ctx.server,
      credential: null,
      idempotencyKey: ctx.idempotencyKey,
    });
    const { credential, me: signedIn } = await signIn(anonymous.http, { username, password });
    await store(ctx, { ...credential, username: signedIn.username });
    const me: Me = {
      username: signedIn.username,
      role: signedIn.role,
      mustChangePassword: signedIn.mustChangePassword,
      kind: signedIn.kind,
    };
    ctx.out.result(me, () => `${describeMe(me)} at ${ctx.server}`);
    if (me.mustChangePassword)
      ctx.out.warn(
        'this account must change its password before it can do anything else; use the web dashboard',
      );
    if (ctx.credentialSource === 'env')
      ctx.out.warn('QUBOT_TOKEN is set and takes precedence over the stored session');
    return ExitCode.Ok;
  },
};

export const logout: Command = {
  name: ['logout'],
  summary: 'Sign out: ends the stored session and forgets the stored credential',
  options: {},
  examples: ['qubot logout'],
  async run(ctx) {
    const stored = ctx.config.credentials[ctx.server];
    if (!stored) {
      ctx.out.result({ ok: true, removed: false }, () => `not signed in at ${ctx.server}`);
      return ExitCode.Ok;
    }
    if (stored.kind === 'session') {
      try {
        await ctx.client.call('POST /api/v1/auth/logout', { body: {}, credential: stored });
      } catch (err) {
        // An expired session is as good as ended; anything else is worth a note, not a failure.
        if (!(err instanceof ApiError && err.status === 401))
          ctx.out.warn(`could not end the session on the server: ${(err as Error).message}`);
      }
    }
    const { [ctx.server]: _removed, ...rest } = ctx.config.credentials;
    await saveConfig(ctx.configPath, { ...ctx.config, credentials: rest });
    ctx.out.result({ ok: true, removed: true }, () =>
      stored.kind === 'session'
        ? `signed out of ${ctx.server}`
        : `forgot the API token for ${ctx.server} (it stays valid until an admin revokes it)`,
    );
    if (ctx.credentialSource === 'env') ctx.out.warn('QUBOT_TOKEN is still set in the environment');
    return ExitCode.Ok;
  },
};

export const whoami: Command = {
  name: ['whoami'],
  summary: 'Show who the CLI is signed in as',
  options: {},
  examples: ['qubot whoami', 'QUBOT_TOKEN=qbt_… qubot whoami --json'],
  async run(ctx) {
    if (!ctx.credential)
      throw new CliError('not signed in: run qubot login, or set QUBOT_TOKEN', ExitCode.Auth);
    const me = await ctx.client.call('GET /api/v1/auth/me');
    ctx.out.result(me, () => `${describeMe(me)} at ${ctx.server}`);
    return ExitCode.Ok;
  },
};

export const tokenSet: Command = {
  name: ['token', 'set'],
  summary: 'Store an API token (qbt_…) for the server, after checking it works',
  args: '<token|->',
  options: {},
  examples: ['qubot token set qbt_xxxxxxxx', 'printf %s "$QUBOT_DEPLOY_TOKEN" | qubot token set -'],
  details:
    'Use "-" to read the token from stdin, which keeps it out of the shell history. In CI, setting QUBOT_TOKEN is enough; nothing needs storing.',
  async run(ctx) {
    const [arg, ...extra] = ctx.args;
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (arg === undefined) throw new UsageError('missing <token> (or "-" to read it from stdin)');
    const token = (arg === '-' ? await readAll(ctx.io.stdin) : arg).trim();
    if (!/^\S+$/.test(token)) throw new UsageError('the token is empty or contains spaces');
    if (!token.startsWith('qbt_')) ctx.out.warn('API tokens start with qbt_; this one does not');
    const credential: Credential = { kind: 'token', token };
    const check = createClient({ server: ctx.server, credential, idempotencyKey: ctx.idempotencyKey });
    const me = await check.call('GET /api/v1/auth/me');
    await store(ctx, credential);
    ctx.out.result(me, () => `stored the token for ${ctx.server}: ${describeMe(me)}`);
    if (ctx.credentialSource === 'env')
      ctx.out.warn('QUBOT_TOKEN is set and takes precedence over the stored token');
    return ExitCode.Ok;
  },
};
