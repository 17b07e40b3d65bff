import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configPath, loadConfig, saveConfig } from './config.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('[CLI] config file', () => {
  it('lives under ~/.config/qubot unless told otherwise', () => {
    expect(configPath({ HOME: '/home/a' })).toBe('/home/a/.config/qubot/config.json');
    expect(configPath({ HOME: '/home/a', XDG_CONFIG_HOME: '/x' })).toBe('/x/qubot/config.json');
    expect(configPath({ QUBOT_CONFIG: '/c.json' })).toBe('/c.json');
  });

  it('stores credentials readable by the owner only, and reads them back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'qubot-cli-'));
    const path = join(dir, 'qubot', 'config.json');
    expect(await loadConfig(path)).toEqual({ credentials: {} });
    const config = {
      server: 'http://127.0.0.1:8080',
      credentials: { 'http://127.0.0.1:8080': { kind: 'token' as const, token: 'qbt_secret' } },
    };
    await saveConfig(path, config);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadConfig(path)).toEqual(config);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(config);
  });

  it('refuses a corrupt file with a message naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'qubot-cli-'));
    const path = join(dir, 'config.json');
    await writeFile(path, '{nope');
    await expect(loadConfig(path)).rejects.toThrow(`${path} is not valid JSON`);
  });
});
