import type { Environment } from '@qubot/api-contract';
import { Link } from 'react-router';
import { StatusBadge } from '../../components/status-badge';
import { useDeployment } from '../../hooks/api/deployments/queries';
import { paths } from '../../lib/paths';
import { RolloutProgressView } from '../deployments/rollout-progress';

/**
 * The deployment in progress on a pipeline card. Its steps come from the deployment's own query
 * (kept live by the event stream), so the card shows the step, hold and who it waits for.
 */
export function ActiveDeployment({
  deployment,
  isProtected,
}: {
  deployment: NonNullable<Environment['activeDeployment']>;
  isProtected: boolean;
}) {
  const detail = useDeployment(deployment.id).data;
  // The summary and the detail can disagree for a moment (events arrive in batches): the newer wins.
  const fresh = detail && detail.status === deployment.status ? detail : null;
  return (
    <section className="env-card__rollout" aria-label="Active deployment">
      <p className="env-card__rollout-title">
        <StatusBadge
          status={deployment.status}
          label={deployment.status === 'paused' && deployment.waitingFor ? 'Waiting' : undefined}
        />{' '}
        {deployment.strategy} of <strong>{deployment.version}</strong>
      </p>
      <RolloutProgressView
        status={deployment.status}
        waitingFor={deployment.waitingFor}
        progress={fresh?.progress ?? deployment.progress}
        version={deployment.version}
        steps={fresh?.steps ?? null}
        isProtected={isProtected}
        actor={detail?.actor ?? null}
      />
      <Link to={paths.deployment(deployment.id)} className="small">
        View deployment
      </Link>
    </section>
  );
}
