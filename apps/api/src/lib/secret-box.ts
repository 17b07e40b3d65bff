// Configuration secrets at rest (DESIGN §2, docs/configuration.md): AES-256-GCM,
// a fresh 96-bit IV per value, and the environment + key as associated data so a
// ciphertext copied into another entry or environment fails to decrypt.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  encrypt(plaintext: string, context: string): string;
  decrypt(sealed: string, context: string): string;
  /** Keyed hash (HMAC-SHA256 under a key derived from the secret key): fingerprints that cannot be brute-forced without it. */
  mac(text: string): string;
}

export class SecretKeyError extends Error {}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES)
    throw new SecretKeyError(`${where} must be ${KEY_BYTES} bytes, base64-encoded (got ${key.length} bytes)`);
  return key;
}

/**
 * The key: QUBOT_SECRET_KEY (base64 of 32 bytes) when set; otherwise `<dataDir>/secret.key`,
 * generated on first use with mode 600. Losing that file makes stored secrets unreadable.
 */
export function loadSecretKey(opts: { env?: NodeJS.ProcessEnv; dataDir: string }): Buffer {
  const fromEnv = (opts.env ?? process.env).QUBOT_SECRET_KEY;
  if (fromEnv) return decodeKey(fromEnv, 'QUBOT_SECRET_KEY');
  const file = join(opts.dataDir, 'secret.key');
  try {
    return decodeKey(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx': two processes starting together must not each write a different key.
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return decodeKey(readFileSync(file, 'utf8'), file);
}

export function createSecretBox(key: Buffer | (() => Buffer)): SecretBox {
  let cached: Buffer | null = typeof key === 'function' ? null : key;
  // Resolved on first use: a process that never touches a secret never creates a key file.
  const getKey = () => {
    cached ??= (key as () => Buffer)();
    return cached;
  };
  let macKey: Buffer | null = null;
  return {
    mac(text) {
      macKey ??= createHmac('sha256', getKey()).update('qubot config hash v1').digest();
      return createHmac('sha256', macKey).update(text).digest('hex');
    },
    encrypt(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', getKey(), iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    decrypt(sealed, context) {
      if (!sealed.startsWith(PREFIX)) throw new SecretKeyError('not an encrypted value');
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', getKey(), raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SecretKeyError(
          'a stored secret cannot be decrypted: wrong QUBOT_SECRET_KEY or secret.key?',
        );
      }
    },
  };
}
