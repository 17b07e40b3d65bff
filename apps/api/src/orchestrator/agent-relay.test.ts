// What the agent hubs tell each other through PostgreSQL (agent-relay.ts) carries instance specs
// with their decrypted configuration: sealed with the control plane's secret box, a session that
// LISTENs on the channel reads nothing of it, while the other hubs (same key) get every message,
// also one cut into parts. Real PostgreSQL.
import { randomBytes } from 'node:crypto';
import { createDatabase, type Database } from '@qubot/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../../test/db.ts';
import { createSecretBox } from '../lib/secret-box.ts';
import { AGENTS_CHANNEL, createAgentRelay, RELAY_PART_BYTES } from './agent-relay.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dbA: Database;
let dbB: Database;
let spy: pg.Client;
const seen: string[] = [];
const log = { warn: () => {} };

beforeAll(async () => {
  db = await createTestDatabase();
  dbA = createDatabase(db.url, { max: 2 });
  dbB = createDatabase(db.url, { max: 2 });
  spy = new pg.Client({ connectionString: db.url });
  await spy.connect();
  spy.on('notification', (n) => {
    if (n.channel === AGENTS_CHANNEL && n.payload) seen.push(n.payload);
  });
  await spy.query(`LISTEN ${AGENTS_CHANNEL}`);
});
afterAll(async () => {
  await spy?.end();
  await Promise.all([dbA?.close(), dbB?.close()]);
  await db?.drop();
});

type Msg = { k: string; secret: string };

describe('[hosts] the agent relay', () => {
  it('seals each message: the other hub reads it, a listener on the channel does not', async () => {
    const key = randomBytes(32);
    const a = createAgentRelay<Msg>({ db: dbA, log, seal: createSecretBox(key) });
    const b = createAgentRelay<Msg>({ db: dbB, log, seal: createSecretBox(key) });
    const other = createAgentRelay<Msg>({ db: dbB, log, seal: createSecretBox(randomBytes(32)) });
    const got: Msg[] = [];
    const gotOther: Msg[] = [];
    b.onMessage((m) => got.push(m));
    other.onMessage((m) => gotOther.push(m));
    await Promise.all([a.start(), b.start(), other.start()]);
    try {
      const small = { k: 'desired', secret: 'DATABASE_PASSWORD=hunter2-small' };
      // Longer than one NOTIFY: cut into parts, put back together after decryption.
      const large = {
        k: 'desired',
        secret: `DATABASE_PASSWORD=hunter2-large-${'x'.repeat(RELAY_PART_BYTES * 2)}`,
      };
      await a.publish(small);
      await a.publish(large);
      await expect.poll(() => got.length, { timeout: 10_000 }).toBe(2);
      expect(got).toEqual([small, large]);
      // A process with another key reads nothing (and does not act on garbage).
      expect(gotOther).toEqual([]);
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
      const onTheWire = seen
        .map((p) => Buffer.from((JSON.parse(p) as { d: string }).d, 'base64').toString('utf8'))
        .join('');
      expect(onTheWire).not.toContain('hunter2');
      expect(onTheWire).toContain('enc:v1:');
    } finally {
      await Promise.all([a.stop(), b.stop(), other.stop()]);
    }
  });
});
