import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from './embedded.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'qubot-embedded-'));
chmodSync(dataDir, 0o755);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function count(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const r = await c.query('SELECT count(*)::int AS n FROM marker');
  await c.end();
  return r.rows[0].n;
}

function pidOf(dir: string): number {
  return Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

describe('embedded PostgreSQL', () => {
  it('creates a cluster, reuses it on a second start, and recovers after its owner is killed', async () => {
    const first = await startEmbeddedPostgres({ dataDir });
    const c = new pg.Client({ connectionString: first.adminUrl });
    await c.connect();
    await c.query('CREATE TABLE marker (id int)');
    await c.query('INSERT INTO marker VALUES (1)');
    await c.end();
    await first.stop();
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

    // Second start on the same directory: same data, same port.
    const second = await startEmbeddedPostgres({ dataDir });
    expect(second.port).toBe(first.port);
    expect(await count(second.adminUrl)).toBe(1);
    await second.stop();

    // A process that owns the server is SIGKILLed: the server and its lock stay behind.
    const script = `import { startEmbeddedPostgres } from ${JSON.stringify(join(import.meta.dirname, 'embedded.ts'))};
      await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} }); process.stdout.write('up\\n'); setInterval(() => {}, 1e6);`;
    const owner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      owner.stdout.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      owner.once('exit', (code) => reject(new Error(`owner exited ${code}`)));
    });
    owner.kill('SIGKILL');
    const orphan = pidOf(dataDir);
    expect(() => process.kill(orphan, 0)).not.toThrow();

    // The next start handles the leftover server and lock, and the data is intact.
    const third = await startEmbeddedPostgres({ dataDir });
    expect(await count(third.adminUrl)).toBe(1);
    expect(pidOf(dataDir)).not.toBe(orphan);
    await third.stop();
  }, 120_000);
});
