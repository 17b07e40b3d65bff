/// <reference path="./s3rver.d.ts" />
// A real S3-compatible server for tests: s3rver (the @20minutes fork, which checks AWS Signature
// Version 4 like S3 does — a wrong secret gets SignatureDoesNotMatch), listening on a free
// loopback port with a bucket of its own and its files in a temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';
import type { S3Target } from '@qubot/db';

/** A key pair of our own (s3rver's built-in one has the same id and secret, which hides a leak). */
export const S3_ACCESS_KEY_ID = 'QUBOTTESTKEY';
export const S3_SECRET_ACCESS_KEY = 'qubot-test-secret-0f9e8d7c6b5a';
const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('@20minutes/s3rver/lib/models/account.js') as {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
};
DUMMY_ACCOUNT.createKeyPair(S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY);

export async function startS3Server(bucket = 'qubot-backups-test') {
  const directory = mkdtempSync(join(tmpdir(), 'qubot-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = (await server.run()) as { port: number };
  const target: S3Target = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    prefix: 'cluster-a/backups',
    region: 'eu-west-1',
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
  };
  return {
    target,
    /** The server's files (objects land under `<directory>/<bucket>/`). */
    directory,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
