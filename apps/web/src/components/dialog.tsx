import { type FormEvent, type ReactNode, useEffect, useId, useRef } from 'react';
import { errorMessage } from '../lib/api-client';
import './dialog.css';

export interface DialogProps {
  title: string;
  children: ReactNode;
  /** Room for tables (the promotion preview). */
  wide?: boolean;
  /** A request is in flight: the buttons wait and Escape does nothing, so its outcome stays visible. */
  pending: boolean;
  error?: unknown;
  submitLabel: string;
  submitDisabled?: boolean;
  /** Style the submit button as dangerous. */
  danger?: boolean;
  onSubmit: () => void;
  onCancel: () => void;
  /** Set on every step after the first of a dialog with steps: shows "Back". */
  onBack?: () => void;
}

/**
 * A native modal <dialog>: focus is trapped and Escape closes it without extra code, and the page
 * behind is inert for screen readers. Mount it only while open (a closed dialog's heading and
 * fields are noise in the page): it opens itself when mounted and gives focus back when removed.
 * A dialog with steps keeps its own step and passes `onBack` after the first.
 */
export function Dialog({
  title,
  children,
  wide = false,
  pending,
  error,
  submitLabel,
  submitDisabled = false,
  danger = false,
  onSubmit,
  onCancel,
  onBack,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // The dialog is removed rather than closed, so the browser will not restore focus by itself.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      requestAnimationFrame(() => {
        if (opener?.isConnected) opener.focus();
      });
    };
  }, []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!pending) onSubmit();
  };

  return (
    <dialog
      ref={ref}
      className={wide ? 'dialog dialog--wide' : 'dialog'}
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
        {children}
        {error ? (
          <p className="feedback feedback--error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p className="feedback" role="status" aria-live="polite">
          {pending ? 'pending…' : ''}
        </p>
        <div className="dialog__actions">
          {onBack ? (
            <button type="button" className="button button--secondary" onClick={onBack} disabled={pending}>
              Back
            </button>
          ) : null}
          <button type="button" className="button button--secondary" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
          <button
            type="submit"
            className={danger ? 'button button--danger' : 'button'}
            disabled={pending || submitDisabled}
          >
            {pending ? 'pending…' : submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
