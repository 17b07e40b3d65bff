import type { Environment } from '@qubot/api-contract';
import { useState } from 'react';
import { Link } from 'react-router';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { useRolloutConfig } from '../../hooks/api/environments/mutations';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';

/**
 * The configuration the environment's serving instances run, against its current version: drift
 * (docs/configuration.md "Drift") with "Roll out configuration" — a deployment of the live release.
 */
export function ConfigDriftFact({ app, env }: { app: string; env: Environment }) {
  const [open, setOpen] = useState(false);
  const perms = usePermissions();
  const rollout = useRolloutConfig(app);
  const c = env.config;
  if (!c) return null;
  const mayDeploy = perms.can('deploy', env.protected);
  return (
    <div>
      <dt>Configuration</dt>
      <dd>
        <span>version {c.version}</span>{' '}
        {c.drift ? (
          <>
            <span
              className="badge badge--warn"
              role="status"
              aria-label={`Configuration drift in ${env.name}`}
            >
              drift: {c.driftedInstances} {c.driftedInstances === 1 ? 'instance runs' : 'instances run'} an
              older configuration
            </span>{' '}
            <button
              type="button"
              className="button button--secondary"
              disabled={!mayDeploy || rollout.isPending || env.activeDeployment !== null}
              title={mayDeploy ? undefined : perms.hint('deploy', env.protected)}
              onClick={() => {
                rollout.reset();
                setOpen(true);
              }}
            >
              Roll out configuration
            </button>
          </>
        ) : env.live ? (
          <span className="muted">in sync</span>
        ) : null}
        {rollout.data ? (
          <span className="feedback" role="status">
            {' '}
            Roll-out started. <Link to={paths.deployment(rollout.data.id)}>Follow it</Link>
          </span>
        ) : null}
        <ConfirmDialog
          open={open}
          title={`Roll out configuration version ${c.version} to ${env.name}?`}
          confirmLabel="Roll out"
          danger={env.protected}
          requireReason={env.protected}
          pending={rollout.isPending}
          error={open ? rollout.error : null}
          onConfirm={(reason) =>
            rollout.mutate(
              { env: env.name, reason: reason || undefined },
              { onSuccess: () => setOpen(false) },
            )
          }
          onCancel={() => setOpen(false)}
        >
          <p>
            A new deployment of <strong>{env.live?.version}</strong> (rolling) that replaces the instances
            started with an older configuration. Approvals and freeze windows apply as to any deployment.
          </p>
        </ConfirmDialog>
      </dd>
    </div>
  );
}
