import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvLine, parseShowStat } from './admin-socket.ts';
import {
  filesOf,
  type HaproxyConfigOptions,
  renderHaproxyConfig,
  routeOf,
  splitBuckets,
  splitMapLines,
} from './config.ts';
import { HAPROXY_BIN } from './haproxy-provider.ts';

const dir = mkdtempSync(join(tmpdir(), 'qubot-hacfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (over: Partial<HaproxyConfigOptions> = {}): HaproxyConfigOptions => ({
  files: filesOf(dir),
  host: '127.0.0.1',
  port: 18080,
  pools: ['blue', 'green'],
  slots: 4,
  healthPath: '/healthz',
  checkIntervalMs: 1_000,
  connectTimeoutMs: 5_000,
  serverTimeoutMs: 60_000,
  drainTimeoutMs: 15_000,
  ...over,
});

const count = (buckets: string[], pool: string) => buckets.filter((b) => b === pool).length;

describe('the split map', () => {
  it('gives each weighted pool its share of the 1,000 buckets', () => {
    const b = splitBuckets([
      { name: 'blue', weight: 90 },
      { name: 'green', weight: 10 },
    ]);
    expect(b).toHaveLength(1000);
    expect([count(b, 'blue'), count(b, 'green')]).toEqual([900, 100]);
    const thirds = splitBuckets([
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
    expect([count(thirds, 'a'), count(thirds, 'b'), count(thirds, 'c')]).toEqual([334, 333, 333]);
  });

  it('keeps a tiny weight above zero and sends nothing anywhere without weight', () => {
    const b = splitBuckets([
      { name: 'blue', weight: 1000 },
      { name: 'green', weight: 0 },
      { name: 'canary', weight: 0 },
    ]);
    expect(count(b, 'blue')).toBe(1000);
    const tiny = splitBuckets(
      Array.from({ length: 16 }, (_, i) => ({ name: `p${i}`, weight: i === 0 ? 1 : 1000 })),
    );
    expect(count(tiny, 'p0')).toBe(1);
    expect(tiny).toHaveLength(1000);
    expect(splitBuckets([{ name: 'blue', weight: 0 }])).toEqual([]);
  });

  it('maps each bucket to its pool backend', () => {
    const lines = splitMapLines([
      { name: 'blue', weight: 1 },
      { name: 'green', weight: 3 },
    ]);
    expect(lines[0]).toBe('0 pool_blue');
    expect(lines[249]).toBe('249 pool_blue');
    expect(lines[250]).toBe('250 pool_green');
    expect(lines[999]).toBe('999 pool_green');
  });

  it('routes to the one pool with all the weight without the split map, else through it', () => {
    expect(routeOf([{ name: 'blue', weight: 100 }])).toBe('pool_blue');
    expect(
      routeOf([
        { name: 'blue', weight: 0 },
        { name: 'green', weight: 100 },
      ]),
    ).toBe('pool_green');
    expect(
      routeOf([
        { name: 'blue', weight: 90 },
        { name: 'green', weight: 10 },
      ]),
    ).toBe('split');
    expect(routeOf([{ name: 'blue', weight: 0 }])).toBe('split');
    expect(routeOf([])).toBe('split');
    const cfg = renderHaproxyConfig(options(), {});
    const route = join(dir, 'route.map');
    // Each pool's static rule comes before the per-request draw in the split map.
    const rules = cfg.split('\n').filter((l) => l.startsWith('  use_backend'));
    expect(rules).toEqual([
      `  use_backend pool_blue if { str(all),map(${route},split) -m str pool_blue }`,
      `  use_backend pool_green if { str(all),map(${route},split) -m str pool_green }`,
      `  use_backend %[rand(1000),map(${join(dir, 'split.map')},no_pool)]`,
    ]);
  });
});

describe('haproxy.cfg', () => {
  it('holds saved targets in the first slots and parks the others', () => {
    const cfg = renderHaproxyConfig(options(), { blue: ['127.0.0.1:4001', '127.0.0.1:4002'] });
    expect(cfg).toContain('  bind 127.0.0.1:18080');
    expect(cfg).toContain(`  use_backend %[rand(1000),map(${join(dir, 'split.map')},no_pool)]`);
    expect(cfg).toContain(`  stats socket ${join(dir, 'admin.sock')} mode 600 level admin`);
    expect(cfg).toContain(
      '  server s1 127.0.0.1:4001\n  server s2 127.0.0.1:4002\n  server-template s 3-4 127.0.0.1:1 disabled',
    );
    expect(cfg).toContain('backend pool_green\n');
    expect(cfg).toContain('  server-template s 1-4 127.0.0.1:1 disabled');
    expect(cfg).toContain('  option httpchk GET /healthz');
  });

  it('refuses values that would break out of their line', () => {
    expect(() => renderHaproxyConfig(options({ healthPath: '/x\n  stats enable' }), {})).toThrow(
      /health path/,
    );
    expect(() => renderHaproxyConfig(options({ healthPath: '/a b' }), {})).toThrow(/health path/);
    expect(() => renderHaproxyConfig(options({ files: filesOf('/tmp/a b') }), {})).toThrow(/unsafe/);
    expect(() => renderHaproxyConfig(options({ host: 'example.com' }), {})).toThrow(/IPv4/);
    expect(() => renderHaproxyConfig(options({ pools: ['Blue'] }), {})).toThrow(/pool names/);
    const long = filesOf(`/tmp/${'d'.repeat(100)}`);
    expect(() =>
      renderHaproxyConfig(options({ files: { ...long, socket: join(long.dir, 'admin.sock') } }), {}),
    ).toThrow(/too long/);
  });

  it('moves the admin socket of a long runtime directory to a short, stable path', () => {
    const deep = `/work/some/checkout/.qubot-test/e2e-data-12345/runtime/hap/${'a'.repeat(32)}`;
    const files = filesOf(deep);
    expect(Buffer.byteLength(files.socket)).toBeLessThanOrEqual(96);
    expect(files.socket.startsWith(join(deep, ''))).toBe(false);
    // The same directory gives the same socket in every process (adoption finds it), another a different one.
    expect(filesOf(deep).socket).toBe(files.socket);
    expect(filesOf(`${deep}b`).socket).not.toBe(files.socket);
    expect(() => renderHaproxyConfig(options({ files }), {})).not.toThrow();
    // A short directory keeps its socket inside.
    expect(filesOf('/tmp/q/hap/1').socket).toBe('/tmp/q/hap/1/admin.sock');
  });

  it.skipIf(!existsSync(HAPROXY_BIN))('is valid for haproxy itself (haproxy -c)', () => {
    const o = options();
    writeFileSync(o.files.config, renderHaproxyConfig(o, { green: ['127.0.0.1:4001'] }));
    writeFileSync(o.files.map, `${splitMapLines([{ name: 'green', weight: 1 }]).join('\n')}\n`);
    writeFileSync(o.files.route, 'all pool_green\n');
    const check = spawnSync(HAPROXY_BIN, ['-c', '-f', o.files.config], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('Configuration file is valid');
    expect(check.status).toBe(0);
  });
});

describe('show stat', () => {
  it('parses the CSV, quoted fields included', () => {
    expect(parseCsvLine('a,"b,c","say ""hi""",')).toEqual(['a', 'b,c', 'say "hi"', '']);
    const rows = parseShowStat(
      '# pxname,svname,scur,status,\npool_blue,s1,2,UP,\npool_blue,BACKEND,2,UP,\n\n',
    );
    expect(rows).toEqual([
      { pxname: 'pool_blue', svname: 's1', scur: '2', status: 'UP' },
      { pxname: 'pool_blue', svname: 'BACKEND', scur: '2', status: 'UP' },
    ]);
    expect(() => parseShowStat('Unknown command.')).toThrow(/show stat/);
  });
});
