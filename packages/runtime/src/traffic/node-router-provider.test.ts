import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../proc.ts';
import { NodeRouterProvider, parseRouterPoolTotals } from './node-router-provider.ts';
import type { TrafficProvider } from './provider.ts';

describe('parseRouterPoolTotals', () => {
  it('sums the router counters in all and per pool', () => {
    const text = [
      '# HELP qubot_router_requests_total Requests answered',
      'qubot_router_requests_total{pool="blue",version="1.0.0",code="2xx"} 7',
      'qubot_router_requests_total{pool="blue",version="1.0.0",code="5xx"} 2',
      'qubot_router_requests_total{pool="green",version="2.0.0",code="2xx"} 4',
      'qubot_router_errors_total{pool="blue",version="1.0.0",kind="5xx"} 2',
      'qubot_router_errors_total{pool="green",version="2.0.0",kind="proxy"} 1',
      'qubot_router_retries_total{pool="green"} 3',
    ].join('\n');
    expect(parseRouterPoolTotals(text)).toEqual({
      requests: 13,
      errors: 3,
      pools: { blue: { requests: 9, errors: 2 }, green: { requests: 4, errors: 1 } },
    });
  });
});

describe('NodeRouterProvider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qubot-noderouter-'));
  let upstream: Server;
  let target: string;
  let provider: NodeRouterProvider;
  let options: ConstructorParameters<typeof NodeRouterProvider>[0];

  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    target = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    options = {
      port: await freePort(),
      controlPort: await freePort(),
      secret: randomBytes(24).toString('hex'),
      stateFile: join(dir, 'state.json'),
      logFile: join(dir, 'router.log'),
    };
    provider = new NodeRouterProvider(options);
  }, 30_000);

  afterAll(async () => {
    const pid = provider?.pid;
    await provider?.stop(5_000);
    if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    upstream.closeAllConnections();
    await new Promise((ok) => upstream.close(ok));
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('starts, routes, counts per pool, is adopted by pid and stopped through the interface', async () => {
    const p: TrafficProvider = provider;
    expect(await p.adopt()).toBeNull();
    const proc = await p.start();
    expect(proc.address).toBe(p.address);
    await p.setConfig({ pools: [{ name: 'blue', version: '1.0.0', weight: 100, targets: [target] }] });
    for (let i = 0; i < 5; i++) expect((await request(`${p.address}/`)).statusCode).toBe(200);
    expect((await p.totals()).pools.blue).toEqual({ requests: 5, errors: 0 });
    expect(await p.health()).toEqual({
      ok: true,
      pid: proc.pid,
      revision: 1,
      listening: true,
      targets: null,
    });
    expect(await p.waitDrained([target], 1_000)).toBe(true);
    expect((await p.windowStats?.(60_000))?.[0]).toMatchObject({ pool: 'blue', requests: 5 });

    const second = new NodeRouterProvider({ ...options, pid: proc.pid });
    expect(second.isRunning()).toBe(true);
    expect(await second.adopt()).toEqual(proc);
    expect((await second.getConfig()).revision).toBe(1);
    await second.stop(5_000);
    expect(isAlive(proc.pid)).toBe(false);
    expect(p.isRunning()).toBe(false);
  }, 30_000);
});
