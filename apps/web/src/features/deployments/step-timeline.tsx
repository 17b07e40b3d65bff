import type { Step } from '@qubot/api-contract';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { formatDuration } from '../../lib/format-utils';
import { statusTone } from '../../lib/status-utils';

export function StepTimeline({ steps }: { steps: readonly Step[] }) {
  if (steps.length === 0) return <p className="muted">No steps yet.</p>;
  const now = Date.now();
  const ordered = [...steps].sort((a, b) => a.position - b.position);
  return (
    <ol className="timeline">
      {ordered.map((step) => (
        <li
          key={step.position}
          className="timeline__item"
          aria-current={step.status === 'running' ? 'step' : undefined}
        >
          <span
            className={`timeline__marker timeline__marker--${statusTone(step.status)}`}
            aria-hidden="true"
          />
          <div className="timeline__title">
            <span>{step.name}</span>
            <StatusBadge status={step.status} />
          </div>
          <p className="timeline__meta">
            {step.startedAt ? (
              <>
                Started <Time iso={step.startedAt} /> · {formatDuration(step.startedAt, step.finishedAt, now)}
              </>
            ) : (
              'Not started'
            )}
          </p>
          {step.message ? <p className="timeline__message">{step.message}</p> : null}
        </li>
      ))}
    </ol>
  );
}
