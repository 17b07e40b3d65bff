import { ConfirmDialog } from '../../components/confirm-dialog';
import { FreezeOverrideField, useFreezeOverride } from '../../components/freeze-override-field';
import type { RollbackAvailability } from './environment-utils';

/**
 * Rollback's confirmation: the reason (always required) and, after a freeze refusal, the same
 * "Override freeze window" choice as the deploy form and the Promote dialog.
 */
export function RollbackDialog({
  open,
  envName,
  rollback,
  pending,
  error,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  envName: string;
  rollback: RollbackAvailability;
  pending: boolean;
  error?: unknown;
  onConfirm: (reason: string, overrideFreeze: boolean) => void;
  onCancel: () => void;
}) {
  const freeze = useFreezeOverride(error, open);
  return (
    <ConfirmDialog
      open={open}
      title={
        rollback.ofActiveDeployment ? `Roll back the deployment in ${envName}?` : `Roll back ${envName}?`
      }
      confirmLabel="Roll back"
      danger
      pending={pending}
      error={error}
      fields={<FreezeOverrideField state={freeze} disabled={pending} />}
      onConfirm={(reason) => onConfirm(reason, freeze.checked)}
      onCancel={onCancel}
    >
      <p>{rollback.hint}</p>
    </ConfirmDialog>
  );
}
