import type { ConfigVersion } from '@qubot/api-contract';
import { useState } from 'react';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useConfigDiff, useConfigVersions } from '../../hooks/api/config/queries';
import { ConfigDiffTable } from './config-diff-table';
import { previousVersion } from './config-utils';
import './config-history.css';

/** The versions of an environment's configuration, each with its changes from the one before. */
export function ConfigHistory({ app, env }: { app: string; env: string }) {
  const versions = useConfigVersions(app, env);
  const [range, setRange] = useState<{ from: number; to: number } | null>(null);
  const diff = useConfigDiff(app, env, range);
  const items = versions.data?.pages.flatMap((p) => p.items) ?? [];
  const columns: Column<ConfigVersion>[] = [
    { key: 'version', header: 'Version', rowHeader: true, className: 'num', cell: (v) => `v${v.version}` },
    { key: 'by', header: 'By', cell: (v) => v.createdBy ?? '—' },
    { key: 'when', header: 'When', cell: (v) => (v.createdAt ? <Time iso={v.createdAt} /> : '—') },
    { key: 'comment', header: 'Comment', cell: (v) => v.comment ?? <span className="muted">—</span> },
    { key: 'keys', header: 'Keys', className: 'num', cell: (v) => v.entries.length },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (v) => {
        const from = previousVersion(v.version);
        const selected = range?.to === v.version && range.from === from;
        return (
          <button
            type="button"
            className="button button--ghost button--small"
            aria-pressed={selected}
            onClick={() => setRange(selected ? null : { from, to: v.version })}
          >
            {selected ? 'Hide changes' : `Changes from v${from}`}
          </button>
        );
      },
    },
  ];

  return (
    <div className="config-history">
      <h3>Version history</h3>
      <DataTable
        placeholder={
          versions.isPending ? (
            <LoadingState label="Loading versions…" />
          ) : versions.isError ? (
            <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />
          ) : items.length === 0 ? (
            <p className="muted small">No versions yet.</p>
          ) : null
        }
        caption={`Configuration versions of ${env}`}
        columns={columns}
        rows={items}
        rowKey={(v) => String(v.version)}
        paging={versions}
        loadMoreClassName="button button--secondary"
      />
      {range ? (
        <div className="config-history__diff" aria-live="polite">
          <h4>
            Changes from v{range.from} to v{range.to}
          </h4>
          {diff.isPending ? (
            <LoadingState label="Comparing…" />
          ) : diff.isError ? (
            <ErrorState error={diff.error} onRetry={() => void diff.refetch()} />
          ) : (
            <ConfigDiffTable diff={diff.data} caption={`Changes from v${range.from} to v${range.to}`} />
          )}
        </div>
      ) : null}
    </div>
  );
}
