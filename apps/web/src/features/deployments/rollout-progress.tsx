import type { DeploymentProgress, Step } from '@qubot/api-contract';
import { useNow } from '../../lib/use-now';
import {
  holdSentence,
  progressDisplay,
  rolloutProgress,
  stepSentence,
  waitingSentence,
} from './deployment-utils';
import './rollout-progress.css';

export interface RolloutProgressProps {
  status: string;
  waitingFor: string | null;
  progress: DeploymentProgress;
  version: string;
  /** The deployment's steps when known (the card gets them from the deployment's own query). */
  steps: readonly Step[] | null;
  isProtected: boolean;
  actor: string | null;
}

/**
 * A rollout's progress as a release manager reads it: the step (1-based), the instances of the
 * new release that are ready, the share of traffic it takes, a hold's countdown, and — when only a
 * person can move it on — who it waits for instead of a percentage.
 */
export function RolloutProgressView(props: RolloutProgressProps) {
  const now = useNow();
  const view = rolloutProgress(props, props.steps, now);
  const waiting = waitingSentence(props.waitingFor, {
    protected: props.isProtected,
    actor: props.actor ?? 'the person who started it',
  });
  const shown = progressDisplay(props.status, view, waiting);
  if (shown.kind === 'outcome') return <p className={`outcome outcome--${shown.tone}`}>{shown.text}</p>;
  const step = stepSentence(view);
  const instancesLabel = `${view.instancesReady} of ${view.instancesDesired} instances of ${props.version} ready`;
  const trafficLabel = `${Math.round(view.newTrafficPercent)} % of traffic on ${props.version}`;
  return (
    <div className="rollout-progress">
      {step ? <p className="rollout-progress__step">{step}</p> : null}
      {shown.kind === 'waiting' ? (
        <p className="env-card__waiting">{shown.text}</p>
      ) : shown.kind === 'percent' ? (
        <div className="progress-row">
          <progress
            className="progress"
            max={100}
            value={shown.percent}
            aria-label={`Deployment progress ${shown.text}`}
          />
          <span>{shown.text}</span>
        </div>
      ) : null}
      {view.holdUntil && props.status === 'running' ? (
        <p className="rollout-progress__hold">{holdSentence(view.holdUntil, now)}</p>
      ) : null}
      <div className="progress-row">
        <progress
          className="progress progress--instances"
          max={Math.max(1, view.instancesDesired)}
          value={Math.min(view.instancesReady, Math.max(1, view.instancesDesired))}
          aria-label={instancesLabel}
        />
        <span className="small">
          {view.instancesReady}/{view.instancesDesired} instances ready
        </span>
      </div>
      <div className="progress-row">
        <progress
          className="progress progress--traffic"
          max={100}
          value={view.newTrafficPercent}
          aria-label={trafficLabel}
        />
        <span className="small">{Math.round(view.newTrafficPercent)} % traffic on new</span>
      </div>
    </div>
  );
}
