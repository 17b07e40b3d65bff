import type { Environment, StrategyName } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { FreezeOverrideField, useFreezeOverride } from '../../components/freeze-override-field';
import { ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { usePromotionPreview } from '../../hooks/api/config/queries';
import { errorMessage } from '../../lib/api-client';
import { usePermissions } from '../../lib/use-permissions';
import { ConfigDiffTable } from '../config/config-diff-table';
import { promoteStepTitle, STRATEGY_OPTIONS } from './promote-utils';

/**
 * Promote → : first what would ship (versions, changelogs in between, configuration changes),
 * then the reason and strategy. A native modal <dialog>, like ConfirmDialog.
 */
export function PromoteDialog({
  open,
  app,
  env,
  pending,
  error,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  app: string;
  env: Environment;
  pending: boolean;
  error?: unknown;
  onConfirm: (reason: string, strategy: StrategyName, overrideFreeze: boolean, override: boolean) => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [step, setStep] = useState<'preview' | 'confirm'>('preview');
  const [reason, setReason] = useState('');
  const [strategy, setStrategy] = useState<StrategyName>('blue-green');
  const preview = usePromotionPreview(app, env.name, open);
  const freeze = useFreezeOverride(error, open);
  const perms = usePermissions();
  const [override, setOverride] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!open || !dialog) return;
    setStep('preview');
    setReason('');
    setOverride(false);
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      requestAnimationFrame(() => {
        if (opener?.isConnected) opener.focus();
      });
    };
  }, [open]);

  if (!open) return null;
  const p = preview.data;
  // The promotion order and the verification gate refuse without an admin override (with a reason).
  const gated = Boolean(
    p && !p.allowed && (p.verification?.blocking || /admin can override/.test(p.reason ?? '')),
  );
  const mayOverride = gated && perms.role === 'admin';
  const needsReason = env.protected || freeze.checked || override;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    if (step === 'preview') {
      if (p?.allowed || (mayOverride && override)) setStep('confirm');
      return;
    }
    if (needsReason && !reason.trim()) return;
    onConfirm(reason.trim(), strategy, freeze.checked, override);
  };

  return (
    <dialog
      ref={ref}
      className="dialog dialog--wide"
      aria-labelledby={`${id}-title`}
      onCancel={(event) => {
        event.preventDefault();
        if (!pending) onCancel();
      }}
    >
      <form onSubmit={submit} className="dialog__form">
        <h2 id={`${id}-title`} className="dialog__title">
          {promoteStepTitle(step, env.name)}
        </h2>
        {preview.isPending ? (
          <LoadingState label="Loading the promotion preview…" />
        ) : preview.isError ? (
          <ErrorState
            title="Could not load the preview"
            error={preview.error}
            onRetry={() => void preview.refetch()}
          />
        ) : step === 'preview' && p ? (
          <div className="dialog__body promote-preview">
            <dl className="facts">
              <div>
                <dt>From {p.from.environment}</dt>
                <dd>{p.from.version ?? <span className="muted">nothing live</span>}</dd>
              </div>
              <div>
                <dt>To {p.to.environment}</dt>
                <dd>{p.to.version ?? <span className="muted">nothing live</span>}</dd>
              </div>
            </dl>
            {p.verification?.message && !p.verification.blocking ? (
              <p className="feedback feedback--warn" role="alert" aria-label="Verification warning">
                Warning: {p.verification.message}
              </p>
            ) : null}
            {!p.allowed && p.reason ? (
              <p className="feedback feedback--error" role="alert">
                {p.reason}
              </p>
            ) : null}
            {mayOverride ? (
              <label className="field field--check">
                <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} />{' '}
                Override: promote anyway (admin; a reason is required and audited)
              </label>
            ) : null}
            <h3>Releases shipped ({p.releases.length})</h3>
            {p.releases.length === 0 ? (
              <p className="muted small">No releases in between.</p>
            ) : (
              <ol className="changelog-list">
                {p.releases.map((r) => (
                  <li key={r.version}>
                    <strong>{r.version}</strong>{' '}
                    <span className="muted small">
                      <Time iso={r.createdAt} />
                    </span>
                    {r.changelog ? <pre className="changelog">{r.changelog}</pre> : null}
                  </li>
                ))}
              </ol>
            )}
            <h3>Configuration differences</h3>
            <p className="field__hint">
              Each environment keeps its own configuration; promotion does not copy it.
            </p>
            <ConfigDiffTable
              diff={p.config}
              caption={`Configuration of ${p.config.from.environment} compared with ${p.config.to.environment}`}
            />
          </div>
        ) : step === 'confirm' && p ? (
          <div className="dialog__body">
            <p>
              Deploy <strong>{p.from.version}</strong> from {p.from.environment} to{' '}
              <strong>{env.name}</strong>
              {env.protected ? ', a protected environment' : ''}.
            </p>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-strategy`}>
                Strategy
              </label>
              <select
                id={`${id}-strategy`}
                className="field__input"
                value={strategy}
                onChange={(e) => setStrategy(e.target.value as StrategyName)}
                disabled={pending}
              >
                {STRATEGY_OPTIONS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label className="field__label" htmlFor={`${id}-reason`}>
                Reason{needsReason ? '' : ' (optional)'}
              </label>
              <textarea
                id={`${id}-reason`}
                className="field__input"
                rows={3}
                maxLength={1000}
                required={needsReason}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                disabled={pending}
              />
              <p className="field__hint">Recorded in the audit log.</p>
            </div>
            <FreezeOverrideField state={freeze} disabled={pending} />
          </div>
        ) : null}
        {error ? (
          <p className="feedback feedback--error" role="alert">
            {errorMessage(error)}
          </p>
        ) : null}
        <p className="feedback" role="status" aria-live="polite">
          {pending ? 'pending…' : ''}
        </p>
        <div className="dialog__actions">
          {step === 'confirm' ? (
            <button
              type="button"
              className="button button--secondary"
              onClick={() => setStep('preview')}
              disabled={pending}
            >
              Back
            </button>
          ) : null}
          <button type="button" className="button button--secondary" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
          {step === 'preview' ? (
            <button type="submit" className="button" disabled={!(p?.allowed || (mayOverride && override))}>
              Continue
            </button>
          ) : (
            <button
              type="submit"
              className="button"
              disabled={pending || (needsReason && reason.trim() === '')}
            >
              {pending ? 'pending…' : 'Promote'}
            </button>
          )}
        </div>
      </form>
    </dialog>
  );
}
