import { describe, expect, it } from 'vitest';
import { enforcementNote, formatLimits, formatMiB, formatOom } from './resources-utils';

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
