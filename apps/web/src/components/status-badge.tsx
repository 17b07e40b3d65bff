import { statusLabel, statusTone } from '../lib/status-utils';

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge--${statusTone(status)}`}>{label ?? statusLabel(status)}</span>;
}

export function ColorChip({ color }: { color: string | null }) {
  if (!color) return <span className="muted">—</span>;
  return (
    <span className={`color-chip color-chip--${color === 'green' ? 'green' : 'blue'}`}>
      <span className="color-chip__dot" aria-hidden="true" />
      {color}
    </span>
  );
}
