import { describe, expect, it } from 'vitest';
import { formatDuration, formatPercent, formatRelative, shortCommit, shortId } from './format-utils';

const now = Date.parse('2025-01-01T12:00:00Z');

describe('formatRelative', () => {
  it('describes past and future times in words', () => {
    expect(formatRelative('2025-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatRelative('2025-01-01T11:58:00Z', now)).toBe('2 minutes ago');
    expect(formatRelative('2025-01-01T09:00:00Z', now)).toBe('3 hours ago');
    expect(formatRelative('2024-12-31T12:00:00Z', now)).toBe('yesterday');
    expect(formatRelative('2025-01-01T12:00:30Z', now)).toBe('in 30 seconds');
  });
  it('returns the input when it is not a date', () => {
    expect(formatRelative('soon', now)).toBe('soon');
  });
});

describe('formatDuration', () => {
  it('measures to the end, or to now while running', () => {
    expect(formatDuration(null, null, now)).toBe('—');
    expect(formatDuration('2025-01-01T11:59:48Z', null, now)).toBe('12 s');
    expect(formatDuration('2025-01-01T11:00:00Z', '2025-01-01T11:03:04Z', now)).toBe('3 min 4 s');
    expect(formatDuration('2025-01-01T09:58:00Z', null, now)).toBe('2 h 2 min');
  });
});

describe('small formatters', () => {
  it('format percentages, ids and commits', () => {
    expect(formatPercent(12.345, 1)).toBe('12.3 %');
    expect(formatPercent(Number.NaN)).toBe('—');
    expect(shortId('0123456789abcdef')).toBe('01234567');
    expect(shortCommit('abcdef0123456')).toBe('abcdef0');
    expect(shortCommit(null)).toBeNull();
  });
});
