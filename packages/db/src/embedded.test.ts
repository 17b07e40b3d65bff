import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { removeEmbeddedData, startEmbeddedPostgres } from './embedded.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'qubot-embedded-'));
chmodSync(dataDir, 0o755);
afterAll(() => removeEmbeddedData(dataDir));

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

  it('removeEmbeddedData removes the data directory and its cluster, which as root lives in /var/lib/qubot/pg-<hash> (needs root; otherwise the cluster is in the data directory)', async () => {
    const root = process.getuid?.() === 0;
    // mkdtemp's mode 0700: the postgres user (as root) cannot traverse it, so the cluster moves out.
    // A data directory itself, and one nested as the benches keep theirs (<tmp>/<name>/data).
    const direct = mkdtempSync(join(tmpdir(), 'qubot-embedded-rm-'));
    const parent = mkdtempSync(join(tmpdir(), 'qubot-embedded-rm-'));
    const nested = join(parent, 'api', 'data');
    for (const [dataDir, removed] of [
      [direct, direct],
      [nested, parent],
    ] as const) {
      const server = await startEmbeddedPostgres({ dataDir });
      const { clusterDir } = server;
      await server.stop();
      expect(existsSync(join(clusterDir, 'PG_VERSION'))).toBe(true);
      const home = dirname(clusterDir);
      if (root) {
        const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
        expect(home).toBe(`/var/lib/qubot/pg-${hash}`);
        expect(JSON.parse(readFileSync(join(dataDir, 'pg.json'), 'utf8')).clusterDir).toBe(clusterDir);
      } else {
        expect(home).toBe(dataDir);
      }
      removeEmbeddedData(removed);
      expect(existsSync(removed)).toBe(false);
      expect(existsSync(home)).toBe(false);
    }
    // A cluster directory recorded elsewhere than /var/lib/qubot/pg-* is not ours to remove.
    const other = mkdtempSync(join(tmpdir(), 'qubot-embedded-keep-'));
    const stray = mkdtempSync(join(tmpdir(), 'qubot-embedded-rm-'));
    mkdirSync(join(other, 'pg'));
    writeFileSync(
      join(stray, 'pg.json'),
      JSON.stringify({ port: 1, password: 'x', clusterDir: join(other, 'pg') }),
    );
    removeEmbeddedData(stray);
    expect([existsSync(stray), existsSync(join(other, 'pg'))]).toEqual([false, true]);
    rmSync(other, { recursive: true, force: true });
  }, 120_000);
});
