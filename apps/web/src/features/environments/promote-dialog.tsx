import type { Environment, StrategyName } from '@qubot/api-contract';
import { useState } from 'react';
import { Dialog } from '../../components/dialog';
import { CheckField } from '../../components/field';
import { FreezeOverrideField, useFreezeOverride } from '../../components/freeze-override-field';
import { ReasonField } from '../../components/reason-field';
import { ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { usePromotionPreview } from '../../hooks/api/config/queries';
import { usePermissions } from '../../lib/use-permissions';
import { ConfigDiffTable } from '../config/config-diff-table';
import { promoteStepTitle } from './promote-utils';
import { StrategyField } from './strategy-field';

interface PromoteDialogProps {
  open: boolean;
  app: string;
  env: Environment;
  pending: boolean;
  error?: unknown;
  onConfirm: (reason: string, strategy: StrategyName, overrideFreeze: boolean, override: boolean) => void;
  onCancel: () => void;
}

/**
 * Promote → : a Dialog in two steps, first what would ship (versions, changelogs in between,
 * configuration changes), then the reason and strategy.
 */
export function PromoteDialog({ open, ...props }: PromoteDialogProps) {
  // The strategy chosen last time is kept; the steps are mounted only while open, so each opening
  // starts at the preview with an empty reason.
  const [strategy, setStrategy] = useState<StrategyName>('blue-green');
  return open ? <PromoteSteps {...props} strategy={strategy} setStrategy={setStrategy} /> : null;
}

function PromoteSteps({
  app,
  env,
  pending,
  error,
  onConfirm,
  onCancel,
  strategy,
  setStrategy,
}: Omit<PromoteDialogProps, 'open'> & { strategy: StrategyName; setStrategy: (s: StrategyName) => void }) {
  const [step, setStep] = useState<'preview' | 'confirm'>('preview');
  const [reason, setReason] = useState('');
  const preview = usePromotionPreview(app, env.name, true);
  const freeze = useFreezeOverride(error);
  const perms = usePermissions();
  const [override, setOverride] = useState(false);

  const p = preview.data;
  // The promotion order and the verification gate refuse without an admin override (with a reason).
  const gated = Boolean(
    p && !p.allowed && (p.verification?.blocking || /admin can override/.test(p.reason ?? '')),
  );
  const mayOverride = gated && perms.role === 'admin';
  const needsReason = env.protected || freeze.checked || override;

  const mayContinue = Boolean(p?.allowed || (mayOverride && override));
  const submit = () => {
    if (step === 'preview') {
      if (mayContinue) setStep('confirm');
      return;
    }
    if (needsReason && !reason.trim()) return;
    onConfirm(reason.trim(), strategy, freeze.checked, override);
  };

  return (
    <Dialog
      title={promoteStepTitle(step, env.name)}
      wide
      pending={pending}
      error={error}
      submitLabel={step === 'preview' ? 'Continue' : 'Promote'}
      submitDisabled={step === 'preview' ? !mayContinue : needsReason && reason.trim() === ''}
      onSubmit={submit}
      onCancel={onCancel}
      onBack={step === 'confirm' ? () => setStep('preview') : undefined}
    >
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
            <CheckField
              label="Override: promote anyway (admin; a reason is required and audited)"
              checked={override}
              onChange={(e) => setOverride(e.target.checked)}
            />
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
            Deploy <strong>{p.from.version}</strong> from {p.from.environment} to <strong>{env.name}</strong>
            {env.protected ? ', a protected environment' : ''}.
          </p>
          <StrategyField value={strategy} onChange={setStrategy} disabled={pending} />
          <ReasonField value={reason} onChange={setReason} required={needsReason} disabled={pending} />
          <FreezeOverrideField state={freeze} disabled={pending} />
        </div>
      ) : null}
    </Dialog>
  );
}
