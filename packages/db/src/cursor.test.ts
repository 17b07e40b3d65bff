// The keyset condition's one SQL spelling, over both key shapes it serves: (created_at, id::uuid)
// (deployments, releases) and the audit trail's (at, id::bigint). Paging itself is tested through
// the routes (apps/api audit-router.test.ts, read-routes.test.ts) and the repositories.
import { describe, expect, it } from 'vitest';
import { afterCursorSql, CREATED_AT_UUID, encodeKey, keysetAfterSql } from './cursor.ts';

const at = new Date('2026-12-01T10:00:00.123Z');

describe('keysetAfterSql', () => {
  it('spells (created_at, id::uuid) for cursors of most lists', () => {
    const id = '0b6f3c6e-8f1e-4a57-9d0e-2f4f0d4b8a11';
    const sql = afterCursorSql(encodeKey(at, id));
    expect(sql.sql).toBe(
      'created_at <= ?::timestamptz AND (created_at < ?::timestamptz OR (created_at = ?::timestamptz AND id < ?::uuid))',
    );
    expect(sql.values).toEqual([at.toISOString(), at.toISOString(), at.toISOString(), id]);
    expect(keysetAfterSql({ at, id }, CREATED_AT_UUID).sql).toBe(sql.sql);
  });

  it("spells the audit trail's (at, id::bigint)", () => {
    const sql = keysetAfterSql({ at, id: '42' }, { time: 'at', id: 'id', idType: 'bigint' });
    expect(sql.text).toBe(
      'at <= $1::timestamptz AND (at < $2::timestamptz OR (at = $3::timestamptz AND id < $4::bigint))',
    );
    expect(sql.values).toEqual([at.toISOString(), at.toISOString(), at.toISOString(), '42']);
  });
});
