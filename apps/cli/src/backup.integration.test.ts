import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/app.ts';
import { createCliRunner } from './cli-process.ts';
import { ExitCode } from './exit-utils.ts';

let t: Awaited<ReturnType<typeof buildTestApp>>;
let server: string;
let home: string;
const tokens: Record<string, string> = {};
const restored = `qubot_cli_${Date.now().toString(36)}`;

beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  for (const role of ['admin', 'release-manager'] as const) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: await t.as('admin'),
      payload: { name: `backup cli ${role}`, role },
    });
    tokens[role] = res.json().secret;
  }
  home = await mkdtemp(join(tmpdir(), 'qubot-cli-backup-'));
});
afterAll(async () => {
  await t.db.pool.query(`DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
  cli.killAll();
  await t?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const cli = createCliRunner(() => ({ HOME: home, QUBOT_SERVER: server }));
const qubot = (args: string[], token = tokens.admin) => cli.run(args, { env: { QUBOT_TOKEN: token } });

describe('[CLI] qubot backup', () => {
  it('create, list, verify (restore drill), restore into a new database; not for a release manager', async () => {
    const created = await qubot(['backup', 'create', '--reason', 'cli test', '--json']);
    expect(created.code, created.stderr).toBe(ExitCode.Ok);
    const { id } = JSON.parse(created.stdout) as { id: string };

    const list = await qubot(['backup', 'list']);
    expect(list.code, list.stderr).toBe(ExitCode.Ok);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/last restore drill: never\s+OVERDUE/);

    const verify = await qubot(['backup', 'verify', id]);
    expect(verify.code, verify.stderr).toBe(ExitCode.Ok);
    expect(verify.stdout).toContain(`backup ${id} verified`);

    const restore = await qubot(['backup', 'restore', id, '--database', restored]);
    expect(restore.code, restore.stderr).toBe(ExitCode.Ok);
    const again = await qubot(['backup', 'restore', id, '--database', restored]);
    expect(again.code).toBe(ExitCode.Conflict);
    expect(again.stderr).toMatch(/already exists/);

    const denied = await qubot(['backup', 'list'], tokens['release-manager']);
    expect(denied.code).toBe(ExitCode.Auth);
    const actions = await t.db.prisma.auditEntry.findMany({ where: { action: { startsWith: 'backup.' } } });
    expect(actions.map((a) => a.action).sort()).toEqual(['backup.create', 'backup.restore', 'backup.verify']);
  }, 60_000);
});
