import type { Deployment } from '@qubot/api-contract';
import { useState } from 'react';
import { Link } from 'react-router';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { useRedeploy } from '../../hooks/api/deployments/mutations';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';

/** "Redeploy…" on a finished deployment's page: the same release, strategy, options and configuration. */
export function RedeployButton({ d, isProtected }: { d: Deployment; isProtected: boolean }) {
  const [open, setOpen] = useState(false);
  const redeploy = useRedeploy();
  const perms = usePermissions();
  const mayDeploy = perms.can('deploy', isProtected);
  return (
    <section className="card" aria-label="Redeploy">
      <div className="button-row">
        <button
          type="button"
          className="button button--secondary"
          disabled={!mayDeploy || redeploy.isPending}
          title={mayDeploy ? undefined : perms.hint('deploy', isProtected)}
          onClick={() => {
            redeploy.reset();
            setOpen(true);
          }}
        >
          Redeploy…
        </button>
        <span className="muted small">
          Deploys {d.release.version} to {d.environment} again with {d.strategy}, the same options
          {d.configVersion !== null ? ` and configuration version ${d.configVersion}` : ''}.
        </span>
      </div>
      {redeploy.data ? (
        <p className="feedback" role="status">
          Redeploy started. <Link to={paths.deployment(redeploy.data.id)}>Follow it</Link>
        </p>
      ) : null}
      <ConfirmDialog
        open={open}
        title={`Redeploy ${d.release.version} to ${d.environment}?`}
        confirmLabel="Redeploy"
        danger={isProtected}
        requireReason={isProtected}
        pending={redeploy.isPending}
        error={open ? redeploy.error : null}
        onConfirm={(reason) =>
          redeploy.mutate(
            { id: d.id, reason: reason || undefined, app: d.application, env: d.environment },
            { onSuccess: () => setOpen(false) },
          )
        }
        onCancel={() => setOpen(false)}
      >
        <p>
          A new deployment of <strong>{d.release.version}</strong> with {d.strategy}, the options of this one
          {d.configVersion !== null ? (
            <>
              {' '}
              and configuration version <strong>{d.configVersion}</strong>
            </>
          ) : null}
          .
        </p>
      </ConfirmDialog>
    </section>
  );
}
