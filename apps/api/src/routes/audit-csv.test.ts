import { describe, expect, it } from 'vitest';
import { csvCell } from '../services/audit-service.ts';

describe('[security] audit CSV cells', () => {
  it('neutralises every cell a spreadsheet would run as a formula, including after leading whitespace', () => {
    for (const lead of ['=', '+', '-', '@', '\t', '\r', '\n', ' ', '\u00a0', '\uff1d']) {
      const value = `${lead}HYPERLINK("http://evil.example","x")`;
      const cell = csvCell(value);
      // Unquoted it starts with the apostrophe; quoted (it holds a quote) the apostrophe follows the quote.
      expect(cell.replace(/^"/, ''), JSON.stringify(lead)).toMatch(/^'/);
      expect(cell.replace(/^"/, '').slice(1).replace(/"$/, '').replaceAll('""', '"')).toBe(value);
    }
    expect(csvCell(' =1+1')).toBe("' =1+1");
    expect(csvCell('\n=1+1')).toBe(`"'\n=1+1"`);
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(null)).toBe('');
  });
});
