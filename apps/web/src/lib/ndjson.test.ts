import { describe, expect, it } from 'vitest';
import { appendLines, linesOf, splitNdjson } from './ndjson';

describe('splitNdjson / linesOf', () => {
  it('keeps an unfinished record for the next chunk and skips broken ones', () => {
    const a = splitNdjson('', '{"lines":["a"]}\n{"lines":["b",');
    expect(a.records.flatMap(linesOf)).toEqual(['a']);
    const b = splitNdjson(a.rest, '"c"]}\nnot json\n{"lines":[]}\n');
    expect(b.records.flatMap(linesOf)).toEqual(['b', 'c']);
    expect(b.rest).toBe('');
    expect(linesOf(null)).toEqual([]);
    expect(linesOf({ lines: ['x', 1] })).toEqual(['x']);
  });
});

describe('appendLines', () => {
  it('keeps the newest lines', () => {
    expect(appendLines(['1', '2'], ['3', '4'], 3)).toEqual(['2', '3', '4']);
    expect(appendLines(['1'], [], 3)).toEqual(['1']);
  });
});
