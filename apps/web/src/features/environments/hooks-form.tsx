import { type FormEvent, useEffect, useId, useState } from 'react';
import { CheckField, TextField } from '../../components/field';
import { ActionFeedback, ErrorState } from '../../components/states';
import { useUpdateEnvironmentHooks } from '../../hooks/api/environment-hooks/mutations';
import { useEnvironmentHooks } from '../../hooks/api/environment-hooks/queries';
import { usePermissions } from '../../lib/use-permissions';
import {
  draftOfHooks,
  type HookDraft,
  type HookPhase,
  type HooksDraft,
  hookProblems,
  hooksBody,
  hooksValid,
} from './hooks-form-utils';

const PHASES: { phase: HookPhase; title: string; hint: string }[] = [
  {
    phase: 'pre',
    title: 'Pre-deployment hook',
    hint: 'Runs before anything starts (e.g. a database migration); a failure stops the deployment before traffic moves.',
  },
  {
    phase: 'post',
    title: 'Post-deployment hook',
    hint: 'Runs once the new release takes traffic (e.g. a smoke test); a failure rolls the deployment back.',
  },
];

/**
 * An environment's pre/post-deployment hooks, set by admins (docs/hooks.md): each names a job the
 * application's job launcher runs, with a timeout; unticking one removes it. Protected
 * environments take a reason. Deployments created afterwards run the new hooks.
 */
export function HooksForm({ app, env, isProtected }: { app: string; env: string; isProtected: boolean }) {
  const id = useId();
  const perms = usePermissions();
  const hooks = useEnvironmentHooks(app, env);
  const update = useUpdateEnvironmentHooks(app, env);
  const [draft, setDraft] = useState<HooksDraft | null>(null);
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const [tried, setTried] = useState(false);
  const stored = hooks.data;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the stored hooks are the dependency
  useEffect(() => {
    if (stored) setDraft(draftOfHooks(stored));
  }, [JSON.stringify(stored?.pre), JSON.stringify(stored?.post)]);

  if (hooks.isError) return <ErrorState error={hooks.error} onRetry={() => void hooks.refetch()} />;
  if (!stored || !draft) return null;
  const isAdmin = perms.role === 'admin';
  const locked = !isAdmin || update.isPending;
  const set = (phase: HookPhase, patch: Partial<HookDraft>) =>
    setDraft({ ...draft, [phase]: { ...draft[phase], ...patch } });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setDone(null);
    setTried(true);
    if (!hooksValid(draft)) return;
    update.mutate(hooksBody(draft, reason), {
      onSuccess: () => {
        setReason('');
        setTried(false);
        setDone('Hooks saved. Deployments created from now on run them.');
      },
    });
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Deployment hooks</h2>
      {!stored.jobLauncherSet ? (
        <p className="feedback feedback--warn">
          This application has no job launcher: hooks fail until an admin sets one (docs/hooks.md).
        </p>
      ) : null}
      <form className="settings-form" aria-label={`Hooks of ${env}`} onSubmit={submit} noValidate>
        {PHASES.map(({ phase, title, hint }) => {
          const d = draft[phase];
          const problems = tried ? hookProblems(d) : {};
          return (
            <fieldset key={phase} className="settings-form__group">
              <legend>{title}</legend>
              <p className="field__hint">{hint}</p>
              <CheckField
                label={`Run a ${phase === 'pre' ? 'pre' : 'post'}-deployment job`}
                checked={d.enabled}
                disabled={locked}
                onChange={(e) => set(phase, { enabled: e.target.checked })}
              />
              {d.enabled ? (
                <>
                  <TextField
                    label={`${phase === 'pre' ? 'Pre' : 'Post'}-deployment job`}
                    value={d.job}
                    disabled={locked}
                    placeholder={phase === 'pre' ? 'migrate' : 'smoke'}
                    invalid={Boolean(problems.job)}
                    error={problems.job}
                    onChange={(e) => set(phase, { job: e.target.value })}
                  />
                  <TextField
                    label={`${phase === 'pre' ? 'Pre' : 'Post'}-deployment timeout (seconds)`}
                    type="number"
                    min={1}
                    max={3600}
                    value={d.timeoutSeconds}
                    disabled={locked}
                    invalid={Boolean(problems.timeoutSeconds)}
                    error={problems.timeoutSeconds}
                    onChange={(e) => set(phase, { timeoutSeconds: e.target.value })}
                  />
                </>
              ) : null}
            </fieldset>
          );
        })}
        <TextField
          label={isProtected ? 'Reason (required: protected environment)' : 'Reason (optional)'}
          value={reason}
          disabled={locked}
          onChange={(e) => setReason(e.target.value)}
        />
        {!isAdmin ? (
          <p className="field__hint">
            Hooks run programs with the environment's secrets: changing them needs admin
            {perms.role ? ` (you are ${perms.role})` : ''}.
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button" disabled={locked}>
            Save hooks
          </button>
        </div>
        <ActionFeedback error={update.error} success={done} />
      </form>
    </section>
  );
}
