import type { Deployment } from '@qubot/api-contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { type DeploymentAction, useDeploymentControl } from '../../hooks/api/deployments/mutations';
import { availableControls } from './deployment-utils';

const LABELS: Record<DeploymentAction, string> = {
  pause: 'Pause',
  resume: 'Resume',
  abort: 'Abort',
  advance: 'Advance',
  approve: 'Approve',
};

const DONE: Record<DeploymentAction, string> = {
  pause: 'Paused.',
  resume: 'Resumed.',
  abort: 'Abort requested.',
  advance: 'Advanced.',
  approve: 'Approved.',
};

/** Abort undoes work and approve is a sign-off: both ask for a reason. */
const CONFIRM: Partial<Record<DeploymentAction, string>> = {
  abort: 'Abort this deployment? The environment returns to the previous release.',
  approve: 'Approve this deployment? Your approval is recorded.',
};

export function DeploymentControls({ deployment }: { deployment: Deployment }) {
  const control = useDeploymentControl();
  const [dialog, setDialog] = useState<DeploymentAction | null>(null);
  const [last, setLast] = useState<DeploymentAction | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const enabled = availableControls(deployment);
  const active =
    deployment.status === 'pending' || deployment.status === 'running' || deployment.status === 'paused';

  const run = (action: DeploymentAction, reason?: string) => {
    setLast(action);
    setDone(null);
    control.mutate(
      { id: deployment.id, action, reason, app: deployment.application, env: deployment.environment },
      {
        onSuccess: () => {
          setDialog(null);
          setDone(DONE[action]);
        },
      },
    );
  };

  const onClick = (action: DeploymentAction) => {
    control.reset();
    if (CONFIRM[action]) setDialog(action);
    else run(action);
  };

  if (!active) return null;

  return (
    <section className="card" aria-labelledby="controls-title">
      <h2 id="controls-title">Controls</h2>
      <div className="button-row">
        {(Object.keys(LABELS) as DeploymentAction[]).map((action) => (
          <button
            key={action}
            type="button"
            className={`button ${action === 'abort' ? 'button--danger' : action === 'approve' || action === 'advance' ? '' : 'button--secondary'}`}
            disabled={!enabled[action] || control.isPending}
            onClick={() => onClick(action)}
          >
            {control.isPending && last === action && !dialog ? 'pending…' : LABELS[action]}
          </button>
        ))}
      </div>
      <p className="feedback" role="status" aria-live="polite">
        {control.isPending && !dialog ? 'pending…' : (done ?? '')}
      </p>
      {control.error && !dialog ? (
        <p className="feedback feedback--error" role="alert">
          {control.error.message}
        </p>
      ) : null}
      <ConfirmDialog
        open={dialog !== null}
        title={dialog ? `${LABELS[dialog]} deployment?` : ''}
        confirmLabel={dialog ? LABELS[dialog] : 'Confirm'}
        danger={dialog === 'abort'}
        requireReason={dialog === 'abort'}
        pending={control.isPending}
        error={dialog ? control.error : null}
        onConfirm={(reason) => dialog && run(dialog, reason)}
        onCancel={() => setDialog(null)}
      >
        <p>{dialog ? CONFIRM[dialog] : null}</p>
      </ConfirmDialog>
    </section>
  );
}
