import type { Backup, BackupStatus } from '@qubot/api-contract';

/** 1234567 → "1.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1_048_576) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1_073_741_824) return `${(bytes / 1_048_576).toFixed(1)} MB`;
  return `${(bytes / 1_073_741_824).toFixed(2)} GB`;
}

/** The drill's alert line: what an admin must know first. */
export function drillSummary(s: BackupStatus): { tone: 'ok' | 'warn' | 'error'; text: string } {
  if (s.drillState === 'overdue')
    return {
      tone: 'error',
      text: s.lastGoodDrillAt
        ? `Overdue: the last successful restore drill is older than ${s.schedule.drillMaxAgeHours} h.`
        : 'Overdue: no restore drill has succeeded yet — nothing proves the backups restore.',
    };
  if (s.drillState === 'failing')
    return { tone: 'warn', text: `The last restore drill failed: ${s.lastDrill?.error ?? 'unknown error'}` };
  return { tone: 'ok', text: 'The newest restore drill succeeded.' };
}

/** "ok (drill)" / "failed" / "not verified". */
export function verificationLabel(b: Pick<Backup, 'verification' | 'error'>): string {
  if (b.error) return 'unreadable';
  if (!b.verification) return 'not verified';
  return b.verification.ok ? `ok (${b.verification.kind})` : 'failed';
}

/** A new database name the server accepts (a-z, 0-9, _), or the problem. */
export function databaseNameProblem(name: string): string | null {
  if (name.trim() === '') return 'Name the new database.';
  return /^[a-z_][a-z0-9_]{0,40}$/.test(name) ? null : 'Lowercase letters, digits and _ only (at most 41).';
}

export function scheduleLine(s: BackupStatus['schedule']): string {
  const every = (h: number | null, what: string) => (h === null ? `${what} off` : `${what} every ${h} h`);
  return `${every(s.backupEveryHours, 'backups')}, keeping ${s.keep}; ${every(s.drillEveryHours, 'restore drills')}`;
}

/** Where a backup's copies are, in words: "this server + S3", "S3 only". */
export function locationsLabel(locations: readonly ('local' | 's3')[]): string {
  const local = locations.includes('local');
  const s3 = locations.includes('s3');
  if (local && s3) return 'this server + S3';
  if (s3) return 'S3 only';
  return local ? 'this server' : '—';
}
