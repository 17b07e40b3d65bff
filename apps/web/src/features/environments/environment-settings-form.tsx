import type { Environment } from '@qubot/api-contract';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { CheckField, SelectField, TextField } from '../../components/field';
import {
  type EnvironmentSettingsVariables,
  useUpdateEnvironmentSettings,
} from '../../hooks/api/environments/mutations';
import { usePermissions } from '../../lib/use-permissions';
import './environment-settings-form.css';

type OnInconclusive = 'fail' | 'wait' | null;
type TrafficProviderKind = 'node' | 'haproxy';

interface Draft {
  protected: boolean;
  requiresApproval: boolean;
  replicas: number;
  /** After its limit an inconclusive analysis fails or waits for a person; null follows protection. */
  analysisOnInconclusive: OnInconclusive;
  /** What serves the address; changing it on a live environment hands the address over. */
  trafficProvider: TrafficProviderKind;
}

export const PROVIDER_LABEL: Record<TrafficProviderKind, string> = {
  node: 'Node router (embedded)',
  haproxy: 'HAProxy',
};

const INCONCLUSIVE_LABEL: Record<'fail' | 'wait' | 'follow', string> = {
  follow: 'follow protection',
  fail: 'roll back',
  wait: 'wait for a person',
};
const inconclusiveLabel = (v: OnInconclusive) => INCONCLUSIVE_LABEL[v ?? 'follow'];

/** The stored settings of `env` as the form edits them. */
export function draftOf(env: Environment): Draft {
  return {
    protected: env.protected,
    requiresApproval: env.requiresApproval,
    replicas: env.replicas,
    analysisOnInconclusive: env.analysisOnInconclusive ?? null,
    trafficProvider: env.trafficProvider === 'haproxy' ? 'haproxy' : 'node',
  };
}

/** The PATCH …/settings payload: only what changed, and the reason. */
export function settingsPayload(
  env: Environment,
  draft: Draft,
  reason: string,
): EnvironmentSettingsVariables {
  const before = draftOf(env);
  return {
    env: env.name,
    protected: draft.protected !== before.protected ? draft.protected : undefined,
    requiresApproval: draft.requiresApproval !== before.requiresApproval ? draft.requiresApproval : undefined,
    replicas: draft.replicas !== before.replicas ? draft.replicas : undefined,
    analysisOnInconclusive:
      draft.analysisOnInconclusive !== before.analysisOnInconclusive
        ? draft.analysisOnInconclusive
        : undefined,
    trafficProvider: draft.trafficProvider !== before.trafficProvider ? draft.trafficProvider : undefined,
    reason,
  };
}

/** What changes, as a sentence for the confirmation: "protected: no → yes, replicas: 2 → 3". */
export function settingsChanges(before: Draft, after: Draft): string[] {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const out: string[] = [];
  if (before.protected !== after.protected)
    out.push(`protected: ${yes(before.protected)} → ${yes(after.protected)}`);
  if (before.requiresApproval !== after.requiresApproval)
    out.push(`requires approval: ${yes(before.requiresApproval)} → ${yes(after.requiresApproval)}`);
  if (before.replicas !== after.replicas) out.push(`replicas: ${before.replicas} → ${after.replicas}`);
  if (before.analysisOnInconclusive !== after.analysisOnInconclusive)
    out.push(
      `inconclusive analysis: ${inconclusiveLabel(before.analysisOnInconclusive)} → ${inconclusiveLabel(after.analysisOnInconclusive)}`,
    );
  if (before.trafficProvider !== after.trafficProvider)
    out.push(
      `traffic provider: ${PROVIDER_LABEL[before.trafficProvider]} → ${PROVIDER_LABEL[after.trafficProvider]} (now: the new router takes over the same address)`,
    );
  return out;
}

/**
 * An environment's settings, changed from the dashboard: protection and approval by admins,
 * replicas by release-managers. Every change confirms and takes a reason (audited
 * `environment.settings`); it applies to the next deployment.
 */
export function EnvironmentSettingsForm({ app, env }: { app: string; env: Environment }) {
  const id = useId();
  const perms = usePermissions();
  const update = useUpdateEnvironmentSettings(app);
  const current: Draft = draftOf(env);
  const [draft, setDraft] = useState<Draft>(current);
  // Someone else (or this form) changed the settings: show what is stored now.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the stored values are the dependencies
  useEffect(() => {
    setDraft(draftOf(env));
  }, [env.protected, env.requiresApproval, env.replicas, env.analysisOnInconclusive, env.trafficProvider]);
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const isAdmin = perms.role === 'admin';
  const mayScale = perms.role === 'admin' || perms.role === 'release-manager';
  const changes = settingsChanges(current, draft);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (changes.length === 0) return;
    update.reset();
    setDone(null);
    setConfirming(true);
  };

  const save = (reason: string) => {
    update.mutate(settingsPayload(env, draft, reason), {
      onSuccess: (saved) => {
        setConfirming(false);
        setDraft(draftOf(saved));
        setDone(
          saved.trafficProvider !== current.trafficProvider
            ? `Saved. ${saved.trafficProvider === 'kubernetes' ? 'The cluster' : PROVIDER_LABEL[saved.trafficProvider ?? 'node']} now serves ${saved.address ?? 'the address'}.`
            : saved.replicas !== current.replicas && saved.live
              ? `Saved. Scaling to ${saved.replicas} instances now.`
              : 'Saved. The next deployment uses these settings.',
        );
      },
    });
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Settings</h2>
      <form className="settings-form" aria-label={`Settings of ${env.name}`} onSubmit={submit}>
        <CheckField
          label="Protected (release-managers and admins only; every action asks for a reason)"
          checked={draft.protected}
          disabled={!isAdmin || update.isPending}
          onChange={(e) => setDraft({ ...draft, protected: e.target.checked })}
        />
        <CheckField
          label="Requires approval (a second person approves each deployment)"
          checked={draft.requiresApproval}
          disabled={!isAdmin || update.isPending}
          onChange={(e) => setDraft({ ...draft, requiresApproval: e.target.checked })}
        />
        <TextField
          label="Replicas"
          type="number"
          min={1}
          max={20}
          value={draft.replicas}
          disabled={!mayScale || update.isPending}
          onChange={(e) => setDraft({ ...draft, replicas: Number(e.target.value) })}
        />
        <SelectField
          label="Inconclusive analysis, after its limit"
          value={draft.analysisOnInconclusive ?? ''}
          disabled={!isAdmin || update.isPending}
          onChange={(e) =>
            setDraft({
              ...draft,
              analysisOnInconclusive:
                e.target.value === 'fail' || e.target.value === 'wait' ? e.target.value : null,
            })
          }
        >
          <option value="">Follow protection (wait if protected, else roll back)</option>
          <option value="fail">Roll back</option>
          <option value="wait">Wait for a person</option>
        </SelectField>
        <SelectField
          label="Traffic provider"
          hint="What serves the address. Changing it on a live environment hands the address over at once: the old router stops accepting and finishes its requests, the new one starts on the same port (new connections may be refused for a fraction of a second). Not while a deployment runs. HAProxy measures no latency: canary latency thresholds cannot pass there."
          value={draft.trafficProvider}
          // A Kubernetes environment is routed by the cluster (docs/kubernetes.md).
          disabled={!isAdmin || update.isPending || env.trafficProvider === 'kubernetes'}
          onChange={(e) =>
            setDraft({ ...draft, trafficProvider: e.target.value === 'haproxy' ? 'haproxy' : 'node' })
          }
        >
          <option value="node">{PROVIDER_LABEL.node}</option>
          <option value="haproxy">{PROVIDER_LABEL.haproxy}</option>
        </SelectField>
        {!isAdmin ? (
          <p className="field__hint">
            Protection and approval: needs admin{perms.role ? ` (you are ${perms.role})` : ''}. So do the
            choice for an inconclusive analysis and the traffic provider.
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" className="button" disabled={changes.length === 0 || update.isPending}>
            Save settings
          </button>
        </div>
        <p className="feedback" role="status" aria-live="polite">
          {done ?? ''}
        </p>
        {update.error && !confirming ? (
          <p className="feedback feedback--error" role="alert">
            {update.error.message}
          </p>
        ) : null}
      </form>
      <ConfirmDialog
        open={confirming}
        title={`Change the settings of ${env.name}?`}
        confirmLabel="Save settings"
        danger={env.protected || draft.protected !== env.protected}
        pending={update.isPending}
        error={confirming ? update.error : null}
        onConfirm={save}
        onCancel={() => setConfirming(false)}
      >
        <ul>
          {changes.map((c) => (
            <li key={c}>{c}</li>
          ))}
        </ul>
        <p className="muted small">
          {draft.trafficProvider !== current.trafficProvider
            ? 'The traffic provider changes now; the other settings apply to the next deployment.'
            : 'Applies to the next deployment; one in progress keeps its settings.'}
        </p>
      </ConfirmDialog>
    </section>
  );
}
