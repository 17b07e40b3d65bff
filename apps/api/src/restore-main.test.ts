import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackup, tableChecksums } from '@qubot/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/db.ts';

const MAIN = fileURLToPath(new URL('./restore-main.ts', import.meta.url));
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dir: string;
const target = `qubot_dr_${Date.now().toString(36)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'qubot-dr-'));
});
afterAll(async () => {
  await db.pool.query(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('[backups] disaster recovery with the server stopped (restore-main)', () => {
  it('restores the newest backup into a database that did not exist, and refuses to overwrite it', async () => {
    await db.prisma.auditEntry.create({ data: { actor: 'dr', action: 'test', targetType: 'x' } });
    await createBackup({ url: db.url, dir, createdBy: 'test', toolVersion: 't' });
    const url = new URL(db.url);
    url.pathname = `/${target}`;
    const r = await run(['--backup-dir', dir], { DATABASE_URL: url.toString() });
    expect(r.code, r.stderr).toBe(0);
    expect(await tableChecksums(url.toString())).toEqual(await tableChecksums(db.url));

    const again = await run(['--backup-dir', dir], { DATABASE_URL: url.toString() });
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/already exists[\s\S]*nothing was overwritten/);
    const c = new pg.Client({ connectionString: url.toString() });
    await c.connect();
    const n = await c.query('SELECT count(*)::int AS n FROM audit_entries');
    await c.end();
    expect(n.rows[0].n).toBe(1);
  }, 60_000);
});
