import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretBox, loadSecretKey, SecretKeyError } from './secret-box.ts';

const dir = mkdtempSync(join(tmpdir(), 'qubot-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('[config] secret box', () => {
  it('round-trips, uses a fresh IV each time and refuses another context or a tampered value', () => {
    const box = createSecretBox(randomBytes(32));
    const a = box.encrypt('s3cret', 'env/KEY');
    const b = box.encrypt('s3cret', 'env/KEY');
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(box.decrypt(a, 'env/KEY')).toBe('s3cret');
    expect(() => box.decrypt(a, 'other-env/KEY')).toThrow(SecretKeyError);
    const tampered = `${a.slice(0, -4)}${a.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect(() => box.decrypt(tampered, 'env/KEY')).toThrow(SecretKeyError);
    expect(() => createSecretBox(randomBytes(32)).decrypt(a, 'env/KEY')).toThrow(SecretKeyError);
  });

  it('takes QUBOT_SECRET_KEY when set and rejects a key of the wrong size', () => {
    const key = randomBytes(32);
    expect(loadSecretKey({ env: { QUBOT_SECRET_KEY: key.toString('base64') }, dataDir: dir })).toEqual(key);
    expect(() =>
      loadSecretKey({ env: { QUBOT_SECRET_KEY: randomBytes(16).toString('base64') }, dataDir: dir }),
    ).toThrow(/32 bytes/);
  });

  it('otherwise generates secret.key once, mode 600, and reuses it', () => {
    const dataDir = join(dir, 'data');
    const first = loadSecretKey({ env: {}, dataDir });
    const file = join(dataDir, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64')).toEqual(first);
    expect(loadSecretKey({ env: {}, dataDir })).toEqual(first);
  });

  it('does not create the key until a secret is used', () => {
    const dataDir = join(dir, 'lazy');
    const box = createSecretBox(() => loadSecretKey({ env: {}, dataDir }));
    expect(() => statSync(join(dataDir, 'secret.key'))).toThrow();
    box.encrypt('x', 'c');
    expect(statSync(join(dataDir, 'secret.key')).isFile()).toBe(true);
  });
});
