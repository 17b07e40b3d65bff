import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('[CONFIG] settings from the environment and flags', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig([], {});
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', role: 'all', demo: false, loginRateLimit: 20 });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('reads PORT, HOST, DATABASE_URL, QUBOT_DATA_DIR and QUBOT_LOGIN_RATE_LIMIT; flags win', () => {
    const c = loadConfig(['--port', '9090', '--role', 'worker', '--demo'], {
      PORT: '7070',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://u@db/x',
      QUBOT_DATA_DIR: '/srv/qubot',
      QUBOT_LOGIN_RATE_LIMIT: '100',
    });
    expect(c).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      databaseUrl: 'postgresql://u@db/x',
      dataDir: '/srv/qubot',
      role: 'worker',
      demo: true,
      loginRateLimit: 100,
    });
  });

  it('rejects bad values with a message naming the setting', () => {
    expect(() => loadConfig([], { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig(['--role', 'boss'], {})).toThrow(/--role/);
    expect(() => loadConfig([], { QUBOT_LOGIN_RATE_LIMIT: '0' })).toThrow(/QUBOT_LOGIN_RATE_LIMIT/);
  });

  it('reads the per-user websocket limit (QUBOT_WS_MAX_PER_USER, default 20)', () => {
    expect(loadConfig([], {}).wsMaxPerUser).toBe(20);
    expect(loadConfig([], { QUBOT_WS_MAX_PER_USER: '3' }).wsMaxPerUser).toBe(3);
    expect(() => loadConfig([], { QUBOT_WS_MAX_PER_USER: '0' })).toThrow(/QUBOT_WS_MAX_PER_USER/);
  });

  it('reads whether reads use the view cache (QUBOT_VIEW_CACHE=on|off, default on)', () => {
    expect(loadConfig([], {}).viewCache).toBe(true);
    expect(loadConfig([], { QUBOT_VIEW_CACHE: 'off' }).viewCache).toBe(false);
    expect(loadConfig([], { QUBOT_VIEW_CACHE: 'on' }).viewCache).toBe(true);
    expect(() => loadConfig([], { QUBOT_VIEW_CACHE: 'no' })).toThrow(/QUBOT_VIEW_CACHE must be on or off/);
  });
});
