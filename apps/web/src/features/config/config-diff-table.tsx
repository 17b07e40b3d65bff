import type { ConfigDiff } from '@qubot/api-contract';
import { diffRows, diffSummary } from './config-utils';
import './config-diff-table.css';

const CHANGE_LABEL = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
  notCompared: 'secret — not compared',
} as const;

/** Keys that differ between two configurations; secrets arrive masked from the server. */
export function ConfigDiffTable({ diff, caption }: { diff: ConfigDiff; caption: string }) {
  const rows = diffRows(diff);
  return (
    <div className="config-diff">
      <p className="muted small">{diffSummary(diff)}</p>
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Change</th>
                <th scope="col">
                  {diff.from.environment} v{diff.from.version}
                </th>
                <th scope="col">
                  {diff.to.environment} v{diff.to.version}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} className={`config-diff__row config-diff__row--${r.change}`}>
                  <th scope="row" className="mono">
                    {r.key}
                    {r.secret ? <span className="badge badge--muted">secret</span> : null}
                  </th>
                  <td>{CHANGE_LABEL[r.change]}</td>
                  <td className="mono break">{r.from ?? <span className="muted">—</span>}</td>
                  <td className="mono break">{r.to ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
