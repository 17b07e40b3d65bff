import type { EnvironmentPolicy, StrategyName } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { SelectField, TextField } from '../../components/field';
import { useUpdatePolicy } from '../../hooks/api/policies/mutations';
import { usePolicies } from '../../hooks/api/policies/queries';
import { useNow } from '../../lib/use-now';
import { usePermissions } from '../../lib/use-permissions';
import { policySentence } from './policy-utils';

interface Draft {
  mode: 'manual' | 'auto';
  soakMinutes: number;
  strategy: StrategyName;
}

const draftOf = (p: EnvironmentPolicy): Draft => ({
  mode: p.policy.mode,
  soakMinutes: Math.round(p.policy.soakSeconds / 60),
  strategy: p.policy.strategy,
});

/**
 * An environment's promotion policy, edited by admins (docs/deployments.md "Promotion
 * policies"): manual, or automatic with its rule (fixed by the pipeline position), soak time and
 * strategy. Protected environments take a reason, and only request: the deployment waits for
 * approval.
 */
export function PolicyForm({ app, env, isProtected }: { app: string; env: string; isProtected: boolean }) {
  const id = useId();
  const perms = usePermissions();
  const policies = usePolicies(app);
  const item = policies.data?.items.find((i) => i.environment === env);
  const update = useUpdatePolicy(app, env);
  const now = useNow();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the stored policy is the dependency
  useEffect(() => {
    if (item) setDraft(draftOf(item));
  }, [item?.policy.updatedAt, Boolean(item)]);
  if (!item || !draft) return null;
  const isAdmin = perms.role === 'admin';
  const soak = item.policy.rule === 'soak';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    update.mutate(
      {
        mode: draft.mode,
        strategy: draft.strategy,
        ...(soak ? { soakSeconds: Math.max(0, Math.round(draft.soakMinutes * 60)) } : {}),
        ...(reason.trim() ? { reason: reason.trim() } : {}),
      },
      {
        onSuccess: () => {
          setReason('');
          setDone('Policy saved.');
        },
      },
    );
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Promotion policy</h2>
      <p className="muted small">
        {soak
          ? 'Automatic: promotes what has been live and healthy in the previous environment for the soak time, with its analysis clean.'
          : 'Automatic: deploys each new release whose test results passed.'}{' '}
        Freeze windows and the promotion order always apply.
        {item.policy.requestsApproval
          ? ' This environment is protected: the policy only requests, a person approves.'
          : ''}
      </p>
      <p className="small" role="status">
        Next: {policySentence(item, new Date(now))}
      </p>
      <form className="settings-form" aria-label={`Promotion policy of ${env}`} onSubmit={submit}>
        <SelectField
          label="Mode"
          value={draft.mode}
          disabled={!isAdmin || update.isPending}
          onChange={(e) => setDraft({ ...draft, mode: e.target.value === 'auto' ? 'auto' : 'manual' })}
        >
          <option value="manual">Manual</option>
          <option value="auto">Automatic</option>
        </SelectField>
        {soak ? (
          <TextField
            label="Soak time (minutes)"
            type="number"
            min={0}
            max={10080}
            value={draft.soakMinutes}
            disabled={!isAdmin || update.isPending}
            onChange={(e) => setDraft({ ...draft, soakMinutes: Number(e.target.value) })}
          />
        ) : null}
        <SelectField
          label="Strategy"
          value={draft.strategy}
          disabled={!isAdmin || update.isPending}
          onChange={(e) => setDraft({ ...draft, strategy: e.target.value as StrategyName })}
        >
          <option value="blue-green">Blue-green</option>
          <option value="rolling">Rolling</option>
          <option value="canary">Canary</option>
        </SelectField>
        <TextField
          label={isProtected ? 'Reason (required: protected environment)' : 'Reason (optional)'}
          value={reason}
          disabled={!isAdmin || update.isPending}
          onChange={(e) => setReason(e.target.value)}
        />
        {!isAdmin ? (
          <p className="field__hint">
            Editing the policy needs admin{perms.role ? ` (you are ${perms.role})` : ''}.
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button" disabled={!isAdmin || update.isPending}>
            Save policy
          </button>
        </div>
        <p className="feedback" role="status" aria-live="polite">
          {done ?? ''}
        </p>
        {update.error ? (
          <p className="feedback feedback--error" role="alert">
            {update.error.message}
          </p>
        ) : null}
      </form>
    </section>
  );
}
