import { describe, expect, it } from 'vitest';
import {
  agentCommand,
  cpuText,
  hostActions,
  memoryText,
  parseExpiryMinutes,
  tokenNameProblem,
} from './hosts-utils';

describe('[web] hosts utils', () => {
  it('offers the actions that change something in each state', () => {
    expect(hostActions({ state: 'ready', scheduling: 'schedulable' })).toEqual(['cordon', 'drain', 'revoke']);
    expect(hostActions({ state: 'cordoned', scheduling: 'cordoned' })).toEqual([
      'uncordon',
      'drain',
      'revoke',
    ]);
    expect(hostActions({ state: 'draining', scheduling: 'draining' })).toEqual(['uncordon', 'revoke']);
    expect(hostActions({ state: 'lost', scheduling: 'schedulable' })).toEqual(['cordon', 'drain', 'revoke']);
    expect(hostActions({ state: 'revoked', scheduling: 'cordoned' })).toEqual([]);
  });

  it('formats the heartbeat figures', () => {
    expect(memoryText(null, null)).toBe('—');
    expect(memoryText(1.5 * 1024 ** 3, 8 * 1024 ** 3)).toBe('1.5 / 8.0 GiB');
    expect(cpuText(12.6)).toBe('13 %');
    expect(cpuText(null)).toBe('—');
  });

  it('checks the token form as the server would', () => {
    expect(tokenNameProblem('  ')).toMatch(/name/);
    expect(tokenNameProblem('rack-1')).toBeNull();
    expect(parseExpiryMinutes('60')).toBe(60);
    expect(parseExpiryMinutes('0')).toBeNull();
    expect(parseExpiryMinutes('10081')).toBeNull();
    expect(parseExpiryMinutes('1.5')).toBeNull();
    expect(agentCommand('https://d.example', 'qhe_x')).toContain('--enrol qhe_x');
  });
});
