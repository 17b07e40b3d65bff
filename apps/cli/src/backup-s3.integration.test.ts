// `qubot backup … --target/--source s3` through the real CLI process, against the real API
// configured with a real S3-compatible server (s3rver, SigV4 signatures checked).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client, remoteBackupIds } from '@qubot/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/app.ts';
import { startS3Server } from '../../../test/s3-server.ts';
import { createCliRunner } from './cli-process.ts';
import { ExitCode } from './exit-utils.ts';

let s3: Awaited<ReturnType<typeof startS3Server>>;
let t: Awaited<ReturnType<typeof buildTestApp>>;
let server: string;
let home: string;
let token: string;
const restored = `qubot_cli_s3_${Date.now().toString(36)}`;

beforeAll(async () => {
  s3 = await startS3Server();
  // With storage configured the server uploads by default; --target local opts out.
  t = await buildTestApp({ app: { backups: { remote: s3.target } } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  server = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: await t.as('admin'),
    payload: { name: 'backup s3 cli', role: 'admin' },
  });
  token = res.json().secret;
  home = await mkdtemp(join(tmpdir(), 'qubot-cli-backup-s3-'));
}, 60_000);
afterAll(async () => {
  await t?.db.pool.query(`DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
  cli.killAll();
  await t?.close();
  await s3?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const cli = createCliRunner(() => ({ HOME: home, QUBOT_SERVER: server }));
const qubot = (args: string[]) => cli.run(args, { env: { QUBOT_TOKEN: token } });

describe('[CLI] qubot backup with S3-compatible storage', () => {
  it('create --target s3 uploads; list/verify/restore --source s3 read from the storage', async () => {
    const local = await qubot(['backup', 'create', '--target', 'local', '--json']);
    expect(local.code, local.stderr).toBe(ExitCode.Ok);
    expect(JSON.parse(local.stdout).locations).toEqual(['local']);

    const created = await qubot(['backup', 'create', '--target', 's3', '--json']);
    expect(created.code, created.stderr).toBe(ExitCode.Ok);
    const { id, locations } = JSON.parse(created.stdout) as { id: string; locations: string[] };
    expect(locations).toEqual(['local', 's3']);
    expect(await remoteBackupIds(createS3Client(s3.target))).toEqual([id]);

    const list = await qubot(['backup', 'list', '--source', 's3']);
    expect(list.code, list.stderr).toBe(ExitCode.Ok);
    expect(list.stdout).toContain(`storage: s3://${s3.target.bucket}/cluster-a/backups/`);
    expect(list.stdout).toMatch(new RegExp(`${id}.*local\\+s3`));
    expect(list.stdout).not.toContain(JSON.parse(local.stdout).id);

    const verify = await qubot(['backup', 'verify', id, '--source', 's3']);
    expect(verify.code, verify.stderr).toBe(ExitCode.Ok);
    expect(verify.stdout).toContain(`backup ${id} verified`);

    const restore = await qubot(['backup', 'restore', id, '--database', restored, '--source', 's3']);
    expect(restore.code, restore.stderr).toBe(ExitCode.Ok);
    const sources = await t.db.prisma.auditEntry.findMany({
      where: { action: { in: ['backup.verify', 'backup.restore'] } },
    });
    expect(sources.map((a) => (a.after as { source: string }).source)).toEqual(['s3', 's3']);

    const bad = await qubot(['backup', 'create', '--target', 'ftp']);
    expect(bad.code).toBe(ExitCode.Usage);
    expect(bad.stderr).toMatch(/--target must be local or s3/);
  }, 90_000);
});
