import type { Environment } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { CheckField, SelectField, TextField } from '../../components/field';
import { ActionFeedback, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useSaveAutoscalePolicy, useScale } from '../../hooks/api/scaling/mutations';
import { useAutoscalePolicy, useScalingDecisions } from '../../hooks/api/scaling/queries';
import { usePermissions } from '../../lib/use-permissions';
import { decisionSummary, measuredLabel, policyDraft, policyProblem } from './scaling-utils';

/**
 * Scaling (docs/scaling.md): scale now (a `scale` deployment, shown live on the card above), the
 * autoscaling policy (release-managers and admins edit it), and the autoscaler's decisions.
 */
export function ScalingSection({ app, env }: { app: string; env: Environment }) {
  const id = useId();
  const perms = usePermissions();
  const mayScale = perms.can('environment.scale', env.protected);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Scaling</h2>
      {mayScale ? (
        <ScaleNowForm app={app} env={env} />
      ) : (
        <p className="field__hint">{`Scaling: ${perms.hint('environment.scale', env.protected)}`}</p>
      )}
      <PolicyEditor app={app} env={env} mayEdit={mayScale} />
      <Decisions app={app} env={env.name} />
    </section>
  );
}

function ScaleNowForm({ app, env }: { app: string; env: Environment }) {
  const scale = useScale(app, env.name);
  const [replicas, setReplicas] = useState(env.replicas);
  const [reason, setReason] = useState('');
  useEffect(() => setReplicas(env.replicas), [env.replicas]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    scale.mutate({ replicas, ...(reason.trim() ? { reason: reason.trim() } : {}) });
  };
  const busy = env.activeDeployment !== null;
  return (
    <form className="settings-form" aria-label={`Scale ${env.name}`} onSubmit={submit}>
      <TextField
        label="Scale to replicas"
        type="number"
        min={1}
        max={20}
        required
        value={replicas}
        onChange={(e) => setReplicas(Number(e.target.value))}
      />
      <TextField
        label="Scale reason"
        value={reason}
        maxLength={1000}
        required={env.protected}
        onChange={(e) => setReason(e.target.value)}
      />
      <button
        type="submit"
        className="button"
        disabled={scale.isPending || busy || replicas === env.replicas}
      >
        {scale.isPending ? 'Scaling…' : 'Scale now'}
      </button>
      <ActionFeedback
        error={scale.error}
        pending={busy ? 'A deployment or scale is in progress' : null}
        success={
          scale.data
            ? scale.data.deployment
              ? `Scaling to ${scale.data.replicas}`
              : `Replicas set to ${scale.data.replicas} (nothing live to scale)`
            : null
        }
      />
    </form>
  );
}

function PolicyEditor({ app, env, mayEdit }: { app: string; env: Environment; mayEdit: boolean }) {
  const policy = useAutoscalePolicy(app, env.name);
  const save = useSaveAutoscalePolicy(app, env.name);
  const current = policy.data?.policy ?? null;
  const [draft, setDraft] = useState(() => policyDraft(current, env.replicas));
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    if (policy.data) setDraft(policyDraft(policy.data.policy, env.replicas));
  }, [policy.data, env.replicas]);
  if (policy.isPending) return <LoadingState label="Loading the autoscaling policy…" />;
  if (policy.isError) return <ErrorState error={policy.error} onRetry={() => void policy.refetch()} />;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = policyProblem(draft);
    setProblem(p);
    if (p) return;
    save.mutate({ ...draft, ...(reason.trim() ? { reason: reason.trim() } : {}) });
  };
  const num = (v: string) => (v === '' ? Number.NaN : Number(v));
  return (
    <form className="settings-form" aria-label={`Autoscaling policy of ${env.name}`} onSubmit={submit}>
      <h3>Autoscaling policy</h3>
      <p className="field__hint">
        {current
          ? `${current.enabled ? 'On' : 'Off'} · set by ${current.updatedBy}`
          : 'No policy: the replica count changes only when someone scales.'}
        {current?.lastScaleAt ? (
          <>
            {' '}
            · last scaled <Time iso={current.lastScaleAt} />
          </>
        ) : null}
      </p>
      <CheckField
        label="Autoscaling enabled"
        checked={draft.enabled}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
      />
      <TextField
        label="Min replicas"
        type="number"
        value={Number.isNaN(draft.minReplicas) ? '' : draft.minReplicas}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, minReplicas: num(e.target.value) })}
      />
      <TextField
        label="Max replicas"
        type="number"
        value={Number.isNaN(draft.maxReplicas) ? '' : draft.maxReplicas}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, maxReplicas: num(e.target.value) })}
      />
      <SelectField
        label="Metric"
        value={draft.metric}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, metric: e.target.value === 'cpu' ? 'cpu' : 'rps' })}
      >
        <option value="rps">Requests per second per instance</option>
        <option value="cpu">CPU % per instance</option>
      </SelectField>
      <TextField
        label="Target per instance"
        type="number"
        step="any"
        value={Number.isNaN(draft.target) ? '' : draft.target}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, target: num(e.target.value) })}
      />
      <TextField
        label="Cooldown (seconds)"
        type="number"
        value={Number.isNaN(draft.cooldownSeconds) ? '' : draft.cooldownSeconds}
        disabled={!mayEdit}
        onChange={(e) => setDraft({ ...draft, cooldownSeconds: num(e.target.value) })}
      />
      {mayEdit ? (
        <>
          <TextField
            label="Policy change reason"
            value={reason}
            maxLength={1000}
            required={env.protected}
            onChange={(e) => setReason(e.target.value)}
          />
          <button type="submit" className="button" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save policy'}
          </button>
        </>
      ) : null}
      <ActionFeedback
        error={problem ? new Error(problem) : save.error}
        success={save.isSuccess ? 'Policy saved' : null}
      />
    </form>
  );
}

function Decisions({ app, env }: { app: string; env: string }) {
  const decisions = useScalingDecisions(app, env);
  const items = decisions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div>
      <h3>Autoscaling decisions</h3>
      {decisions.isPending ? (
        <LoadingState label="Loading decisions…" />
      ) : decisions.isError ? (
        <ErrorState error={decisions.error} onRetry={() => void decisions.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">No decisions yet.</p>
      ) : (
        <ul className="freeze-list" aria-label={`Autoscaling decisions of ${env}`}>
          {items.map((d) => (
            <li key={d.id} className="freeze-list__item">
              <p>
                <strong>{decisionSummary(d)}</strong> <span className="muted small">{measuredLabel(d)}</span>
              </p>
              <p className="muted small">
                <Time iso={d.at} /> · {d.reason}
              </p>
            </li>
          ))}
        </ul>
      )}
      {decisions.hasNextPage ? (
        <button
          type="button"
          className="button button--secondary button--small"
          disabled={decisions.isFetchingNextPage}
          onClick={() => void decisions.fetchNextPage()}
        >
          {decisions.isFetchingNextPage ? 'Loading…' : 'Older decisions'}
        </button>
      ) : null}
    </div>
  );
}
