import type { ConfigDiff } from '@qubot/api-contract';
import { type Column, DataTable } from '../../components/data-table';
import { diffRows, diffSummary } from './config-utils';
import './config-diff-table.css';

const CHANGE_LABEL = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
  notCompared: 'secret — not compared',
} as const;

type Row = ReturnType<typeof diffRows>[number];
const dash = <span className="muted">—</span>;

/** Keys that differ between two configurations; secrets arrive masked from the server. */
export function ConfigDiffTable({ diff, caption }: { diff: ConfigDiff; caption: string }) {
  const rows = diffRows(diff);
  const columns: Column<Row>[] = [
    {
      key: 'key',
      header: 'Key',
      rowHeader: true,
      cellClassName: 'mono',
      cell: (r) => (
        <>
          {r.key}
          {r.secret ? <span className="badge badge--muted">secret</span> : null}
        </>
      ),
    },
    { key: 'change', header: 'Change', cell: (r) => CHANGE_LABEL[r.change] },
    {
      key: 'from',
      header: `${diff.from.environment} v${diff.from.version}`,
      cellClassName: 'mono break',
      cell: (r) => r.from ?? dash,
    },
    {
      key: 'to',
      header: `${diff.to.environment} v${diff.to.version}`,
      cellClassName: 'mono break',
      cell: (r) => r.to ?? dash,
    },
  ];
  return (
    <div className="config-diff">
      <p className="muted small">{diffSummary(diff)}</p>
      {rows.length > 0 ? (
        <DataTable
          caption={caption}
          columns={columns}
          rows={rows}
          rowKey={(r) => r.key}
          rowProps={(r) => ({ className: `config-diff__row config-diff__row--${r.change}` })}
        />
      ) : null}
    </div>
  );
}
