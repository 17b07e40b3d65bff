import { describe, expect, it } from 'vitest';
import { ExitCode } from './exit-utils.ts';
import { parseCpus, parseMemoryMb } from './scaling-utils.ts';

describe('resources flags', () => {
  it('reads CPUs and lifts with none', () => {
    expect(parseCpus('0.5')).toBe(0.5);
    expect(parseCpus('2')).toBe(2);
    expect(parseCpus('.25')).toBe(0.25);
    expect(parseCpus('none')).toBeNull();
    expect(() => parseCpus('half')).toThrow(/--cpu must be a number of CPUs/);
    expect(() => parseCpus('-1')).toThrow(expect.objectContaining({ exitCode: ExitCode.Usage }));
  });

  it('reads memory in MiB, Mi and Gi', () => {
    expect(parseMemoryMb('256')).toBe(256);
    expect(parseMemoryMb('256Mi')).toBe(256);
    expect(parseMemoryMb('1Gi')).toBe(1024);
    expect(parseMemoryMb('1.5G')).toBe(1536);
    expect(parseMemoryMb('unlimited')).toBeNull();
    expect(() => parseMemoryMb('256KB')).toThrow(/--memory must be a size in MiB/);
    expect(() => parseMemoryMb('0.5')).toThrow(/whole number of MiB/);
  });
});
