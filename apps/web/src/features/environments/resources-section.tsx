import type { Environment, StrategyName } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { Link } from 'react-router';
import { TextField } from '../../components/field';
import { ActionFeedback } from '../../components/states';
import { StatusBadge } from '../../components/status-badge';
import { useDeployment } from '../../hooks/api/deployments/queries';
import { useChangeResources } from '../../hooks/api/environments/mutations';
import { useRuntimeInfo } from '../../hooks/api/runtime/queries';
import { isApiError } from '../../lib/api-client';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';
import {
  enforcementNote,
  formatLimits,
  type ResourcesField,
  resourcesBody,
  resourcesDraft,
  resourcesFieldOf,
} from './resources-utils';
import { StrategyField } from './strategy-field';

/**
 * Per-instance CPU and memory limits, whether this runtime enforces them, and (release-managers
 * and admins) the form that changes them: on a live environment the change is a deployment of the
 * live release that rolls every instance, followed here live (docs/scaling.md).
 */
export function ResourcesSection({ app, env }: { app: string; env: Environment }) {
  const id = useId();
  const runtime = useRuntimeInfo();
  const perms = usePermissions();
  const note = enforcementNote(runtime.data);
  const mayChange = perms.can('environment.scale', env.protected);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Resources</h2>
      <p>
        Limits per instance: <strong>{formatLimits(env.resources)}</strong>
      </p>
      {note ? (
        <p className={note.ok ? 'muted small' : 'feedback feedback--error'} role="status">
          {note.text}
        </p>
      ) : null}
      {mayChange ? (
        <ResourcesForm app={app} env={env} />
      ) : (
        <p className="field__hint">{`Resources: ${perms.hint('environment.scale', env.protected)}`}</p>
      )}
    </section>
  );
}

function ResourcesForm({ app, env }: { app: string; env: Environment }) {
  const change = useChangeResources(app, env.name);
  const [draft, setDraft] = useState(() => resourcesDraft(env.resources));
  const [strategy, setStrategy] = useState<StrategyName>('rolling');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<{ field: ResourcesField; message: string } | null>(null);
  // Stored limits changed (this form or someone else): show them.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the stored limits are the dependencies
  useEffect(() => setDraft(resourcesDraft(env.resources)), [env.resources?.memoryMb, env.resources?.cpus]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = resourcesBody(draft);
    setProblem(parsed.ok ? null : { field: parsed.field, message: parsed.message });
    if (!parsed.ok) return;
    change.mutate({ ...parsed.limits, strategy, ...(reason.trim() ? { reason: reason.trim() } : {}) });
  };
  // A validation error the server names a field for is shown under that field.
  const serverField = isApiError(change.error) ? resourcesFieldOf(change.error.field) : null;
  const errorFor = (field: ResourcesField | 'strategy' | 'reason') =>
    problem?.field === field ? problem.message : serverField === field ? change.error?.message : undefined;
  const busy = env.activeDeployment !== null;
  const result = change.data;
  return (
    <form className="settings-form" aria-label={`Resources of ${env.name}`} onSubmit={submit} noValidate>
      <TextField
        label="Memory limit (MiB)"
        hint="16 to 1048576; empty: unlimited"
        inputMode="numeric"
        value={draft.memoryMb}
        error={errorFor('memoryMb')}
        onChange={(e) => setDraft({ ...draft, memoryMb: e.target.value })}
      />
      <TextField
        label="CPU limit (CPUs)"
        hint="0.01 to 256 (0.5 is half a CPU); empty: unlimited"
        inputMode="decimal"
        value={draft.cpus}
        error={errorFor('cpus')}
        onChange={(e) => setDraft({ ...draft, cpus: e.target.value })}
      />
      <StrategyField value={strategy} onChange={setStrategy} disabled={change.isPending} />
      <TextField
        label="Resources change reason"
        value={reason}
        maxLength={1000}
        required={env.protected}
        error={errorFor('reason')}
        onChange={(e) => setReason(e.target.value)}
      />
      <button type="submit" className="button" disabled={change.isPending || busy}>
        {change.isPending ? 'Applying…' : 'Apply limits'}
      </button>
      <ActionFeedback
        error={serverField ? null : change.error}
        pending={busy && !result?.deployment ? 'A deployment or scale is in progress' : null}
        success={
          result
            ? result.deployment
              ? `Limits set to ${formatLimits(result.environment.resources)}: rolling the instances`
              : `Limits set to ${formatLimits(result.environment.resources)}${result.environment.live ? ' (unchanged: nothing to roll)' : ' (nothing live: the next deployment uses them)'}`
            : null
        }
      />
      {result?.deployment ? <RollingDeployment id={result.deployment.id} /> : null}
    </form>
  );
}

/** The deployment the change started, kept live by the event stream. */
function RollingDeployment({ id }: { id: string }) {
  const d = useDeployment(id).data;
  if (!d) return null;
  const current = d.progress.currentStep === null ? null : d.steps[d.progress.currentStep];
  return (
    <section aria-label="Resources deployment" className="small">
      <StatusBadge status={d.status} /> {d.strategy} of {d.release.version} with the new limits
      {current && d.status === 'running' ? ` — ${current.name}` : ''} ·{' '}
      <Link to={paths.deployment(d.id)}>View deployment</Link>
    </section>
  );
}
