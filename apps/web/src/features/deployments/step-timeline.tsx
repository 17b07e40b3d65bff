import type { Step } from '@qubot/api-contract';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { formatDuration } from '../../lib/format-utils';
import { statusTone } from '../../lib/status-utils';
import { useNow } from '../../lib/use-now';
import { humanizeMessage, stepStatusView } from './deployment-utils';
import './step-timeline.css';

export function StepTimeline({
  steps,
  deploymentStatus,
  waitingFor,
}: {
  steps: readonly Step[];
  deploymentStatus: string;
  waitingFor: string | null;
}) {
  const now = useNow();
  if (steps.length === 0) return <p className="muted">No steps yet.</p>;
  const ordered = [...steps].sort((a, b) => a.position - b.position);
  return (
    <ol className="timeline">
      {ordered.map((step) => {
        const shown = stepStatusView(step.status, deploymentStatus, waitingFor);
        return (
          <li
            key={step.position}
            className="timeline__item"
            aria-current={step.status === 'running' ? 'step' : undefined}
          >
            <span
              className={`timeline__marker timeline__marker--${statusTone(shown.tone)}`}
              aria-hidden="true"
            />
            <div className="timeline__title">
              <span>{step.name}</span>
              <StatusBadge status={shown.tone} label={shown.label} />
            </div>
            <p className="timeline__meta">
              {step.startedAt ? (
                <>
                  Started <Time iso={step.startedAt} /> ·{' '}
                  {formatDuration(step.startedAt, step.finishedAt, now)}
                </>
              ) : step.status === 'skipped' ? (
                'Not needed for this deployment'
              ) : (
                'Not started'
              )}
            </p>
            {step.message ? <p className="timeline__message">{humanizeMessage(step.message)}</p> : null}
          </li>
        );
      })}
    </ol>
  );
}
