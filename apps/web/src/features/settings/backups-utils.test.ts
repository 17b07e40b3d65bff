import type { BackupStatus } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import {
  databaseNameProblem,
  drillSummary,
  formatBytes,
  locationsLabel,
  scheduleLine,
  verificationLabel,
} from './backups-utils';

const status = (over: Partial<BackupStatus>): BackupStatus => ({
  directory: '/data/backups',
  lastBackupAt: null,
  lastBackupId: null,
  lastDrill: null,
  lastGoodDrillAt: null,
  drillState: 'ok',
  schedule: { backupEveryHours: 24, drillEveryHours: 24, keep: 7, drillMaxAgeHours: 48 },
  remote: null,
  ...over,
});

describe('backups-utils', () => {
  it('says where the copies of a backup are', () => {
    expect(locationsLabel(['local', 's3'])).toBe('this server + S3');
    expect(locationsLabel(['s3'])).toBe('S3 only');
    expect(locationsLabel(['local'])).toBe('this server');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1_900_329)).toBe('1.8 MB');
  });
  it('raises the alert when no drill ever succeeded, or the last good one is too old, or the last failed', () => {
    expect(drillSummary(status({ drillState: 'overdue' }))).toMatchObject({
      tone: 'error',
      text: /no restore drill/,
    });
    expect(
      drillSummary(status({ drillState: 'overdue', lastGoodDrillAt: '2026-11-01T00:00:00.000Z' })).text,
    ).toMatch(/older than 48 h/);
    const failed = status({
      drillState: 'failing',
      lastDrill: {
        id: 'qb-1',
        ok: false,
        kind: 'drill',
        at: '2026-12-01T00:00:00.000Z',
        durationMs: 5,
        error: 'events.copy.gz is truncated',
      },
    });
    expect(drillSummary(failed)).toEqual({
      tone: 'warn',
      text: 'The last restore drill failed: events.copy.gz is truncated',
    });
    expect(drillSummary(status({})).tone).toBe('ok');
  });
  it('labels verification and checks database names', () => {
    expect(verificationLabel({ verification: null, error: null })).toBe('not verified');
    expect(verificationLabel({ verification: null, error: 'bad manifest' })).toBe('unreadable');
    expect(databaseNameProblem('qubot_restored')).toBeNull();
    expect(databaseNameProblem('Qubot-1')).toMatch(/Lowercase/);
    expect(scheduleLine({ backupEveryHours: null, drillEveryHours: 24, keep: 3, drillMaxAgeHours: 48 })).toBe(
      'backups off, keeping 3; restore drills every 24 h',
    );
  });
});
