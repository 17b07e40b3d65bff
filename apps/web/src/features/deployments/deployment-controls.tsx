import type { Deployment } from '@qubot/api-contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { type DeploymentAction, useDeploymentControl } from '../../hooks/api/deployments/mutations';
import { useEnvironment } from '../../hooks/api/environments/queries';
import { approvalView } from '../../lib/permissions-utils';
import { usePermissions } from '../../lib/use-permissions';

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

/**
 * What each confirmation says. Advance and resume move traffic, abort undoes work and approve is
 * a sign-off: they always ask first. Pause asks only in a protected environment.
 */
const CONFIRM: Record<DeploymentAction, string> = {
  abort: 'Abort this deployment? The environment returns to the previous release.',
  approve: 'Approve this deployment? Your approval is recorded.',
  advance: 'Advance to the next step? Traffic moves to the new release.',
  resume: 'Resume this deployment? It carries on moving traffic to the new release.',
  pause: 'Pause this deployment? It stops at the next step boundary.',
};

/**
 * Whether an action asks for confirmation, and whether the reason is required — as the server
 * requires it (docs/deployments.md "Reasons"): on a protected environment, and for an advance
 * that performs the traffic switch anywhere.
 */
export function confirmationOf(
  action: DeploymentAction,
  isProtected: boolean,
  waitingFor: Deployment['waitingFor'] = null,
): { confirm: boolean; reasonRequired: boolean } {
  if (action === 'approve') return { confirm: true, reasonRequired: false };
  if (action === 'abort') return { confirm: true, reasonRequired: true };
  if (isProtected) return { confirm: true, reasonRequired: true };
  if (action === 'advance' && waitingFor === 'switch') return { confirm: true, reasonRequired: true };
  return { confirm: action !== 'pause', reasonRequired: false };
}

export function DeploymentControls({ deployment }: { deployment: Deployment }) {
  const control = useDeploymentControl();
  const [dialog, setDialog] = useState<DeploymentAction | null>(null);
  const [last, setLast] = useState<DeploymentAction | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const perms = usePermissions();
  // Until the environment is known, assume it is protected: the stricter rule.
  const isProtected = useEnvironment(deployment.application, deployment.environment).data?.protected ?? true;
  const mayControl = perms.can('deployment.control', isProtected);
  // Two-person rule: Approve is shown only to someone who may approve, and never to the requester.
  const approval = approvalView(perms.me, deployment);
  const shown = (Object.keys(LABELS) as DeploymentAction[]).filter(
    (action) => action !== 'approve' || approval.kind === 'can-approve',
  );
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
    if (confirmationOf(action, isProtected).confirm) setDialog(action);
    else run(action);
  };

  if (!active) return null;

  return (
    <section className="card" aria-labelledby="controls-title">
      <h2 id="controls-title">Controls</h2>
      <div className="button-row">
        {shown.map((action) => (
          <button
            key={action}
            type="button"
            className={`button ${action === 'abort' ? 'button--danger' : action === 'approve' || action === 'advance' ? '' : 'button--secondary'}`}
            // What the deployment accepts now: packages/core decides it from its state.
            disabled={
              !deployment.actions.includes(action) ||
              (action !== 'approve' && !mayControl) ||
              control.isPending
            }
            title={
              action !== 'approve' && !mayControl ? perms.hint('deployment.control', isProtected) : undefined
            }
            onClick={() => onClick(action)}
          >
            {control.isPending && last === action && !dialog ? 'pending…' : LABELS[action]}
          </button>
        ))}
      </div>
      {approval.kind === 'own-request' || approval.kind === 'needs-role' ? (
        <p className="env-card__waiting">{approval.message}</p>
      ) : null}
      {!mayControl ? (
        <p className="field__hint">Controls: {perms.hint('deployment.control', isProtected)}</p>
      ) : null}
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
        requireReason={
          dialog ? confirmationOf(dialog, isProtected, deployment.waitingFor).reasonRequired : false
        }
        pending={control.isPending}
        error={dialog ? control.error : null}
        onConfirm={(reason) => dialog && run(dialog, reason)}
        onCancel={() => setDialog(null)}
      >
        <p>{dialog ? CONFIRM[dialog] : null}</p>
        {dialog && isProtected && dialog !== 'approve' ? (
          <p className="muted small">{deployment.environment} is protected: a reason is required.</p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
