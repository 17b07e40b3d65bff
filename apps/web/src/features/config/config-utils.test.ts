import { describe, expect, it } from 'vitest';
import {
  canWriteConfig,
  type DraftEntry,
  diffRows,
  diffSummary,
  draftFrom,
  draftToBody,
  previousVersion,
  validateDraft,
} from './config-utils';

const MASK = '••••••';
const row = (over: Partial<DraftEntry>): DraftEntry => ({
  id: 'x',
  key: 'KEY',
  value: 'v',
  secret: false,
  keep: false,
  ...over,
});

describe('config utils', () => {
  it('never puts a masked secret into the form; kept secrets are sent without a value', () => {
    const draft = draftFrom({
      entries: [
        { key: 'A', value: '1', secret: false },
        { key: 'PASSWORD', value: MASK, secret: true },
      ],
    });
    expect(draft.map((d) => d.value)).toEqual(['1', '']);
    expect(draft[1]?.keep).toBe(true);
    expect(draftToBody(draft, '  why ', 4)).toEqual({
      entries: [
        { key: 'A', value: '1', secret: false },
        { key: 'PASSWORD', secret: true },
      ],
      comment: 'why',
      baseVersion: 4,
    });
    const changed = draft.map((d) => (d.key === 'PASSWORD' ? { ...d, value: 'new' } : d));
    expect(draftToBody(changed, '', 4).entries[1]).toEqual({ key: 'PASSWORD', value: 'new', secret: true });
    expect(draftToBody(changed, ' ', 4)).not.toHaveProperty('comment');
  });

  it('validates keys, duplicates and new secrets like the server', () => {
    expect(validateDraft([row({ id: 'a', key: 'GOOD_1' })])).toEqual({});
    expect(validateDraft([row({ id: 'a', key: 'bad-key' })]).a?.key).toMatch(/Upper-case/);
    expect(validateDraft([row({ id: 'a', key: '1A' })]).a?.key).toBeTruthy();
    expect(validateDraft([row({ id: 'a', key: `A${'B'.repeat(64)}` })]).a?.key).toBeTruthy();
    expect(validateDraft([row({ id: 'a' }), row({ id: 'b' })])).toEqual({
      b: { key: 'KEY is already set above.' },
    });
    expect(validateDraft([row({ id: 'a', secret: true, value: '' })]).a?.value).toMatch(/needs a value/);
    expect(validateDraft([row({ id: 'a', secret: true, keep: true, value: '' })])).toEqual({});
    expect(validateDraft([row({ id: 'a', value: MASK })]).a?.value).toMatch(/mask/);
  });

  it('flattens and summarises a diff', () => {
    const e = (key: string, from: string | null, to: string | null, secret = false) => ({
      key,
      from,
      to,
      secret,
      changed: true,
    });
    const diff = {
      added: [e('Z', null, '1')],
      removed: [e('B', '2', null)],
      changed: [e('A', MASK, MASK, true)],
      unchanged: 3,
    };
    expect(diffRows(diff).map((r) => [r.key, r.change])).toEqual([
      ['A', 'changed'],
      ['B', 'removed'],
      ['Z', 'added'],
    ]);
    expect(diffSummary(diff)).toBe('1 added, 1 changed, 1 removed; 3 unchanged');
    expect(diffSummary({ added: [], removed: [], changed: [], unchanged: 2 })).toBe('No differences');
    // Secrets the caller may not read: listed, without a verdict.
    const blind = { ...diff, notCompared: [{ ...e('S', MASK, MASK, true), changed: false }] };
    expect(diffRows(blind).map((r) => [r.key, r.change])).toContainEqual(['S', 'notCompared']);
    expect(diffSummary(blind)).toBe('1 added, 1 changed, 1 removed, 1 secret not compared; 3 unchanged');
  });

  it('knows who may edit, and which version comes before', () => {
    expect(canWriteConfig('viewer', false)).toBe(false);
    expect(canWriteConfig('deployer', false)).toBe(true);
    expect(canWriteConfig('deployer', true)).toBe(false);
    expect(canWriteConfig('release-manager', true)).toBe(true);
    expect(canWriteConfig(undefined, false)).toBe(false);
    expect(previousVersion(3)).toBe(2);
    expect(previousVersion(1)).toBe(0);
  });
});
