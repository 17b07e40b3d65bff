import type { Backup } from '@qubot/api-contract';
import { useId, useState } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { TextField } from '../../components/field';
import { ActionFeedback, EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCreateBackup, useRestoreBackup, useVerifyBackup } from '../../hooks/api/backups/mutations';
import { useBackupStatus, useBackups } from '../../hooks/api/backups/queries';
import {
  databaseNameProblem,
  drillSummary,
  formatBytes,
  locationsLabel,
  scheduleLine,
  verificationLabel,
} from './backups-utils';

/**
 * Settings → Backups (admin): the last backup and restore drill with the alert state, "Back up
 * now", per backup a verify (restore drill) and a restore into a new database.
 */
export function BackupsPanel() {
  const id = useId();
  const backups = useBackups();
  const status = useBackupStatus();
  const create = useCreateBackup();
  const verify = useVerifyBackup();
  const restore = useRestoreBackup();
  const [restoring, setRestoring] = useState<Backup | null>(null);
  const [database, setDatabase] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const nameProblem = databaseNameProblem(database);

  const columns: Column<Backup>[] = [
    { key: 'id', header: 'Backup', rowHeader: true, cell: (b) => <span className="mono small">{b.id}</span> },
    { key: 'created', header: 'Taken', cell: (b) => (b.error ? b.error : <Time iso={b.createdAt} />) },
    { key: 'by', header: 'By', cell: (b) => b.createdBy },
    { key: 'rows', header: 'Rows', cell: (b) => b.rows.toLocaleString() },
    { key: 'size', header: 'Size', cell: (b) => formatBytes(b.compressedBytes) },
    { key: 'migration', header: 'Migration', cell: (b) => <span className="mono small">{b.migration}</span> },
    { key: 'verified', header: 'Verified', cell: (b) => verificationLabel(b) },
    { key: 'where', header: 'Where', cell: (b) => locationsLabel(b.locations) },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (b) =>
        b.error ? null : (
          <div className="button-row">
            <button
              type="button"
              className="button button--ghost button--small"
              disabled={verify.isPending}
              onClick={() =>
                verify.mutate(
                  { id: b.id, restore: true },
                  {
                    onSuccess: (r) =>
                      setNote(
                        r.ok ? `${b.id} restores and matches its manifest.` : `${b.id} failed: ${r.error}`,
                      ),
                  },
                )
              }
            >
              Verify<span className="visually-hidden"> {b.id}</span>
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => {
                setDatabase('');
                setRestoring(b);
              }}
            >
              Restore…<span className="visually-hidden"> {b.id}</span>
            </button>
          </div>
        ),
    },
  ];

  const s = status.data;
  const alert = s ? drillSummary(s) : null;
  return (
    <section className="card" aria-labelledby={`${id}-backups`}>
      <h2 id={`${id}-backups`}>Backups</h2>
      {status.isError ? (
        <ErrorState error={status.error} onRetry={() => void status.refetch()} />
      ) : s && alert ? (
        <dl className="facts">
          <dt>Last backup</dt>
          <dd>{s.lastBackupAt ? <Time iso={s.lastBackupAt} /> : 'none yet'}</dd>
          <dt>Last restore drill</dt>
          <dd>
            {s.lastDrill ? (
              <>
                {s.lastDrill.ok ? 'succeeded' : 'failed'} <Time iso={s.lastDrill.at} />
              </>
            ) : (
              'never'
            )}
          </dd>
          <dt>Schedule</dt>
          <dd>{scheduleLine(s.schedule)}</dd>
          <dt>Directory</dt>
          <dd className="mono small">{s.directory}</dd>
          <dt>S3 storage</dt>
          <dd className="mono small">
            {s.remote ? `${s.remote.location} (${s.remote.endpoint})` : 'not configured'}
          </dd>
        </dl>
      ) : (
        <LoadingState label="Loading the backup status…" />
      )}
      {alert && alert.tone !== 'ok' ? (
        <p className={`feedback feedback--${alert.tone === 'error' ? 'error' : 'warn'}`} role="alert">
          {alert.text}
        </p>
      ) : null}
      <div className="button-row">
        <button
          type="button"
          className="button"
          disabled={create.isPending}
          onClick={() =>
            create.mutate(
              { reason: 'taken from the dashboard' },
              { onSuccess: (b) => setNote(`Backup ${b.id} taken.`) },
            )
          }
        >
          {create.isPending ? 'Backing up…' : 'Back up now'}
        </button>
      </div>
      <ActionFeedback
        error={create.error ?? verify.error}
        pending={create.isPending ? 'Taking a backup…' : verify.isPending ? 'Restore drill running…' : null}
        success={note}
      />
      <DataTable
        placeholder={
          backups.isPending ? (
            <LoadingState label="Loading backups…" />
          ) : backups.isError ? (
            <ErrorState error={backups.error} onRetry={() => void backups.refetch()} />
          ) : backups.data.items.length === 0 ? (
            <EmptyState title="No backups yet" />
          ) : null
        }
        caption="Backups, newest first"
        columns={columns}
        rows={backups.data?.items ?? []}
        rowKey={(b) => b.id}
      />
      <ConfirmDialog
        open={restoring !== null}
        title={`Restore ${restoring?.id ?? ''} into a new database`}
        confirmLabel="Restore"
        pending={restore.isPending}
        error={restore.error}
        fields={
          <TextField
            label="New database"
            hint="Created on the same PostgreSQL server; an existing database is never overwritten."
            error={database ? nameProblem : null}
            value={database}
            onChange={(e) => setDatabase(e.target.value)}
            autoComplete="off"
          />
        }
        onConfirm={(reason) => {
          if (!restoring || nameProblem) return;
          restore.mutate(
            { id: restoring.id, database, reason },
            {
              onSuccess: (r) => {
                setRestoring(null);
                setNote(`Restored ${r.rows.toLocaleString()} rows into database ${r.database}.`);
              },
            },
          );
        }}
        onCancel={() => setRestoring(null)}
      >
        <p>
          The running database is not touched. To replace it after a disaster, stop the server and use the
          restore command (docs/backup.md).
        </p>
      </ConfirmDialog>
    </section>
  );
}
