import { formatDateTime, formatRelative } from '../lib/format-utils';

export function Time({ iso, relative = true }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? formatRelative(iso, Date.now()) : formatDateTime(iso)}
    </time>
  );
}
