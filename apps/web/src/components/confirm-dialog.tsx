import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { errorMessage } from '../lib/api-client';

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

/**
 * A native modal <dialog>: focus is trapped and Escape closes it without extra code,
 * and the page behind is inert for screen readers.
 */
export function ConfirmDialog({
  open,
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
}: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const reasonId = useId();
  const hintId = useId();
  const [reason, setReason] = useState('');

  useEffect(() => {
    const dialog = ref.current;
    if (!open || !dialog) return;
    setReason('');
    // The dialog is removed rather than closed, so the browser will not restore focus by itself.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      requestAnimationFrame(() => {
        if (opener?.isConnected) opener.focus();
      });
    };
  }, [open]);

  // Mounted only while open: a closed dialog's heading and fields are noise in the page.
  if (!open) return null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    const trimmed = reason.trim();
    if (requireReason && !trimmed) return;
    onConfirm(trimmed);
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        // Escape while the request is in flight would hide its outcome.
        event.preventDefault();
        if (!pending) onCancel();
      }}
    >
      <form onSubmit={submit} className="dialog__form">
        <h2 id={titleId} className="dialog__title">
          {title}
        </h2>
        <div className="dialog__body">{children}</div>
        <label htmlFor={reasonId} className="field__label">
          Reason{requireReason ? '' : ' (optional)'}
        </label>
        <textarea
          id={reasonId}
          className="field__input"
          rows={3}
          maxLength={1000}
          required={requireReason}
          aria-describedby={hintId}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          disabled={pending}
        />
        <p id={hintId} className="field__hint">
          Recorded in the audit log.
        </p>
        {fields}
        {error ? (
          <p className="feedback feedback--error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p className="feedback" role="status" aria-live="polite">
          {pending ? 'pending…' : ''}
        </p>
        <div className="dialog__actions">
          <button type="button" className="button button--secondary" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
          <button
            type="submit"
            className={`button ${danger ? 'button--danger' : ''}`}
            disabled={pending || (requireReason && reason.trim() === '')}
          >
            {pending ? 'pending…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
