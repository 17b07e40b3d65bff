import { formatDateTime, formatRelative } from '../lib/format-utils';
import { useNow } from '../lib/use-now';

export function Time({ iso, relative = true }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return relative ? <RelativeTime iso={iso} /> : <time dateTime={iso}>{formatDateTime(iso)}</time>;
}

/** "3 minutes ago", kept current by the page clock. */
function RelativeTime({ iso }: { iso: string }) {
  const now = useNow();
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatRelative(iso, now)}
    </time>
  );
}
