import { describe, expect, it } from 'vitest';
import {
  parseCommandArgs,
  parseId,
  parseName,
  parseOptionPairs,
  parsePositiveInt,
  parseServer,
  parseStrategy,
  parseWeights,
  splitCommand,
} from './args-utils.ts';
import { ExitCode, UsageError } from './exit-utils.ts';

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(ExitCode.Usage);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
};

describe('[CLI] argument parsing', () => {
  it('finds the command words past value-taking global flags', () => {
    const all = {
      server: { type: 'string', description: '' },
      version: { type: 'string', description: '' },
    } as const;
    expect(
      splitCommand(['--server', 'http://x', 'deploy', 'staging', '--version', '1.0'], all).positionals,
    ).toEqual(['deploy', 'staging']);
  });

  it('names the unknown flag and the flag missing its value', () => {
    expect(usage(() => parseCommandArgs(['deploy', '--colour', 'blue'], {}))).toContain("'--colour'");
    expect(
      usage(() =>
        parseCommandArgs(['deploy', '--version'], { version: { type: 'string', description: '' } }),
      ),
    ).toContain('--version');
  });

  it('accepts global flags anywhere', () => {
    const { values, positionals } = parseCommandArgs(['apps', '--json', '--app', 'x'], {});
    expect(values.json).toBe(true);
    expect(values.app).toBe('x');
    expect(positionals).toEqual(['apps']);
  });

  it('parses strategy options as JSON when they are JSON, nested by dots', () => {
    expect(
      parseOptionPairs([
        'steps=[10,25,50,100]',
        'autoSwitch=false',
        'maxSurge=2',
        'note=hello world',
        'analysis.maxErrorRate=0.05',
      ]),
    ).toEqual({
      steps: [10, 25, 50, 100],
      autoSwitch: false,
      maxSurge: 2,
      note: 'hello world',
      analysis: { maxErrorRate: 0.05 },
    });
    expect(usage(() => parseOptionPairs(['novalue']))).toContain('--option expects key=value');
    expect(usage(() => parseOptionPairs(['__proto__.x=1']))).toContain('not allowed');
  });

  it('validates strategies, colours and weights naming the flag', () => {
    expect(parseStrategy('canary')).toBe('canary');
    expect(parseStrategy(undefined)).toBeUndefined();
    expect(usage(() => parseStrategy('big-bang'))).toMatch(
      /^--strategy must be one of blue-green, rolling, canary/,
    );
    expect(parseWeights('blue=90,green=10')).toEqual([
      { pool: 'blue', weight: 90 },
      { pool: 'green', weight: 10 },
    ]);
    expect(parseWeights('green=100')).toEqual([{ pool: 'green', weight: 100 }]);
    expect(usage(() => parseWeights('blue=90,green=20'))).toContain('--weights must add up to 100');
    expect(usage(() => parseWeights('red=100'))).toContain('unknown pool "red"');
    expect(usage(() => parseWeights('blue=50,blue=50'))).toContain('given twice');
    expect(usage(() => parseWeights('blue=90.5,green=9.5'))).toContain('whole-number');
  });

  it('checks names, ids, numbers and server URLs before any request', () => {
    expect(parseName('staging', 'environment')).toBe('staging');
    expect(usage(() => parseName('Staging!', 'environment'))).toContain('not a valid name');
    expect(usage(() => parseName(undefined, '<env>'))).toBe('missing <env>');
    expect(parseId('0B5C0000-0000-4000-8000-000000000000')).toBe('0b5c0000-0000-4000-8000-000000000000');
    expect(usage(() => parseId('42'))).toContain('not a valid id');
    expect(parsePositiveInt('20', 'limit', 200)).toBe(20);
    expect(usage(() => parsePositiveInt('0', 'limit', 200))).toContain('--limit');
    expect(parseServer('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080');
    expect(usage(() => parseServer('ftp://x'))).toContain('--server');
    expect(usage(() => parseServer('not a url'))).toContain('--server');
  });
});
