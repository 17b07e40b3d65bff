import { describe, expect, it } from 'vitest';
import {
  enforcementNote,
  formatLimits,
  formatMiB,
  formatOom,
  resourcesBody,
  resourcesDraft,
  resourcesFieldOf,
} from './resources-utils';

describe('resources utils', () => {
  it('formats limits and OOM figures', () => {
    expect(formatMiB(64 * 1024 * 1024)).toBe('64 MiB');
    expect(formatMiB(null)).toBe('unknown');
    expect(formatLimits({ memoryMb: 256, cpus: 0.5 })).toBe('256 MiB · 0.5 CPU');
    expect(formatLimits({ memoryMb: null, cpus: null })).toBe('unlimited');
    expect(formatOom(null)).toBeNull();
    expect(formatOom({ kills: 2, at: '', limitBytes: 64 * 1024 * 1024, peakBytes: 66_584_576 })).toBe(
      'OOM-killed 2× — limit 64 MiB, peak 63.5 MiB',
    );
  });

  it('says when limits are not enforced, and why', () => {
    const base = {
      driver: 'local',
      capabilities: { hosts: 'local' as const, survivesControlPlaneRestart: true },
      runtimes: [],
    };
    expect(
      enforcementNote({
        ...base,
        capabilities: { ...base.capabilities, cgroups: true, cgroupVersion: 1, cgroupsUnavailable: null },
      }),
    ).toEqual({ ok: true, text: 'Enforced with cgroup v1 on the local runtime.' });
    const off = enforcementNote({
      ...base,
      capabilities: {
        ...base.capabilities,
        cgroups: false,
        cgroupVersion: null,
        cgroupsUnavailable: 'not root',
      },
    });
    expect(off?.ok).toBe(false);
    expect(off?.text).toMatch(/Not enforced here: not root/);
  });
});

describe('resources form', () => {
  it('reads empty fields as unlimited and numbers as limits', () => {
    expect(resourcesDraft({ memoryMb: 256, cpus: null })).toEqual({ memoryMb: '256', cpus: '' });
    expect(resourcesBody({ memoryMb: ' 128 ', cpus: '0.5' })).toEqual({
      ok: true,
      limits: { memoryMb: 128, cpus: 0.5 },
    });
    expect(resourcesBody({ memoryMb: '', cpus: '' })).toEqual({
      ok: true,
      limits: { memoryMb: null, cpus: null },
    });
  });

  it('names the field that is not a number', () => {
    expect(resourcesBody({ memoryMb: '1.5', cpus: '' })).toMatchObject({ ok: false, field: 'memoryMb' });
    expect(resourcesBody({ memoryMb: '', cpus: 'half' })).toMatchObject({ ok: false, field: 'cpus' });
  });

  it("maps the server's field to the form's", () => {
    expect(resourcesFieldOf('body.memoryMb')).toBe('memoryMb');
    expect(resourcesFieldOf('body.cpus')).toBe('cpus');
    expect(resourcesFieldOf('body.reason')).toBe('reason');
    expect(resourcesFieldOf('body.options.maxSurge')).toBeNull();
    expect(resourcesFieldOf(null)).toBeNull();
  });
});
