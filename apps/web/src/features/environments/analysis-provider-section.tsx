import type { Environment } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { Field, SelectField, TextField } from '../../components/field';
import { ActionFeedback, ErrorState, LoadingState } from '../../components/states';
import { useSaveAnalysisProvider } from '../../hooks/api/environments/mutations';
import { useAnalysisProvider } from '../../hooks/api/environments/queries';
import { isApiError } from '../../lib/api-client';
import { usePermissions } from '../../lib/use-permissions';
import {
  type AnalysisDraft,
  type AnalysisField,
  analysisBody,
  analysisDraft,
  analysisFieldOf,
  analysisSummary,
} from './analysis-provider-utils';

const TEMPLATES: { field: 'requests' | 'errorRate' | 'p95Seconds'; label: string }[] = [
  { field: 'requests', label: 'Requests query' },
  { field: 'errorRate', label: 'Error rate query (0..1)' },
  { field: 'p95Seconds', label: 'p95 latency query (seconds)' },
];

/**
 * Where a canary's analysis reads its figures (docs/monitoring.md "Prometheus as the analysis
 * source"): everyone sees it; admins switch to a Prometheus with PromQL templates, checked by the
 * server, whose refusals are shown under the field they name.
 */
export function AnalysisProviderSection({ app, env }: { app: string; env: Environment }) {
  const id = useId();
  const perms = usePermissions();
  const current = useAnalysisProvider(app, env.name);
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Analysis provider</h2>
      {current.isPending ? (
        <LoadingState label="Loading the analysis provider…" />
      ) : current.isError ? (
        <ErrorState error={current.error} onRetry={() => void current.refetch()} />
      ) : (
        <>
          <p>
            Canary analysis reads: <strong>{analysisSummary(current.data)}</strong>
          </p>
          {perms.role === 'admin' ? <AnalysisProviderForm app={app} env={env} /> : null}
        </>
      )}
    </section>
  );
}

function AnalysisProviderForm({ app, env }: { app: string; env: Environment }) {
  const current = useAnalysisProvider(app, env.name);
  const save = useSaveAnalysisProvider(app, env.name);
  const [draft, setDraft] = useState<AnalysisDraft>(() => analysisDraft(current.data));
  const [reason, setReason] = useState('');
  useEffect(() => setDraft(analysisDraft(current.data)), [current.data]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate(analysisBody(draft, reason));
  };
  const serverField = isApiError(save.error) ? analysisFieldOf(save.error.field) : null;
  const errorFor = (field: AnalysisField) => (serverField === field ? save.error?.message : undefined);
  const prometheus = draft.provider === 'prometheus';
  return (
    <form
      className="settings-form"
      aria-label={`Analysis provider of ${env.name}`}
      onSubmit={submit}
      noValidate
    >
      <SelectField
        label="Figures from"
        value={draft.provider}
        error={errorFor('provider')}
        onChange={(e) =>
          setDraft({ ...draft, provider: e.target.value === 'prometheus' ? 'prometheus' : 'router' })
        }
      >
        <option value="router">Traffic provider (router)</option>
        <option value="prometheus">Prometheus (PromQL)</option>
      </SelectField>
      {prometheus ? (
        <>
          <TextField
            label="Prometheus URL"
            placeholder="http://prometheus:9090"
            value={draft.url}
            error={errorFor('url')}
            onChange={(e) => setDraft({ ...draft, url: e.target.value })}
          />
          {TEMPLATES.map(({ field, label }) => (
            <Field
              key={field}
              label={label}
              hint="Placeholders: {{app}} {{env}} {{pool}} (required) {{version}} {{window}}"
              error={errorFor(field)}
            >
              {(control) => (
                <textarea
                  {...control}
                  className="field__input"
                  rows={3}
                  value={draft[field]}
                  onChange={(e) => setDraft({ ...draft, [field]: e.target.value })}
                />
              )}
            </Field>
          ))}
          <TextField
            label="Query timeout (seconds)"
            inputMode="numeric"
            value={draft.timeoutSeconds}
            error={errorFor('timeoutSeconds')}
            onChange={(e) => setDraft({ ...draft, timeoutSeconds: e.target.value })}
          />
        </>
      ) : null}
      <TextField
        label="Analysis provider change reason"
        value={reason}
        maxLength={1000}
        required={env.protected}
        error={errorFor('reason')}
        onChange={(e) => setReason(e.target.value)}
      />
      <button type="submit" className="button" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save analysis provider'}
      </button>
      <ActionFeedback
        error={serverField ? null : save.error}
        success={save.isSuccess ? `Saved: canary analysis reads ${analysisSummary(save.data)}` : null}
      />
    </form>
  );
}
