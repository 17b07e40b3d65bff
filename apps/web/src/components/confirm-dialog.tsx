import { type ReactNode, useState } from 'react';
import { Dialog } from './dialog';
import { ReasonField } from './reason-field';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  /** Style the confirm button as dangerous. */
  danger?: boolean;
  requireReason?: boolean;
  /** Extra fields shown after the reason (e.g. the freeze override). */
  fields?: ReactNode;
  pending: boolean;
  error?: unknown;
  onConfirm: (reason: string) => void;
  onCancel: () => void;
}

/** A one-step Dialog that asks for a reason (required unless `requireReason` is false) before a change. */
export function ConfirmDialog({ open, ...props }: ConfirmDialogProps) {
  // Mounted only while open, so each opening starts with an empty reason.
  return open ? <ConfirmDialogForm {...props} /> : null;
}

function ConfirmDialogForm({
  title,
  children,
  confirmLabel,
  danger = false,
  requireReason = true,
  fields,
  pending,
  error,
  onConfirm,
  onCancel,
}: Omit<ConfirmDialogProps, 'open'>) {
  const [reason, setReason] = useState('');
  const missing = requireReason && reason.trim() === '';
  return (
    <Dialog
      title={title}
      danger={danger}
      pending={pending}
      error={error}
      submitLabel={confirmLabel}
      submitDisabled={missing}
      onSubmit={() => {
        if (!missing) onConfirm(reason.trim());
      }}
      onCancel={onCancel}
    >
      <div className="dialog__body">{children}</div>
      <ReasonField
        value={reason}
        onChange={setReason}
        required={requireReason}
        disabled={pending}
        wrapped={false}
      />
      {fields}
    </Dialog>
  );
}
