import type { StrategyName } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { Link } from 'react-router';
import { SelectField, TextField } from '../../components/field';
import { FreezeOverrideField, useFreezeOverride } from '../../components/freeze-override-field';
import { ActionFeedback } from '../../components/states';
import { useCreateDeployment } from '../../hooks/api/deployments/mutations';
import { useEnvironments } from '../../hooks/api/environments/queries';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';
import { StrategyField } from '../environments/strategy-field';

export function DeployReleaseForm({
  app,
  version,
  initialEnv = '',
}: {
  app: string;
  version: string;
  /** Preselected from the matrix or a pipeline card (`?env=`). */
  initialEnv?: string;
}) {
  const environments = useEnvironments(app);
  const deploy = useCreateDeployment(app);
  const [env, setEnv] = useState(initialEnv);
  const [strategy, setStrategy] = useState<StrategyName>('blue-green');
  const [reason, setReason] = useState('');
  const id = useId();
  const perms = usePermissions();
  const items = environments.data?.items ?? [];
  const selected =
    items.find((e) => e.name === env) ?? items.find((e) => perms.can('deploy', e.protected)) ?? items[0];
  const mayDeploy = selected ? perms.can('deploy', selected.protected) : false;
  const freeze = useFreezeOverride(deploy.error, selected?.name);
  const reasonRequired = Boolean(selected?.protected) || freeze.checked;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!selected || !mayDeploy) return;
    if (reasonRequired && !reason.trim()) return;
    deploy.mutate({
      env: selected.name,
      version,
      strategy,
      reason: reason.trim() || undefined,
      ...(freeze.checked ? { overrideFreeze: true } : {}),
    });
  };

  if (environments.isPending) return <p className="muted">Loading environments…</p>;
  if (environments.isError) {
    return (
      <p className="feedback feedback--error" role="alert">
        {environments.error.message}
      </p>
    );
  }
  if (items.length === 0) return <p className="muted">No environments to deploy to.</p>;

  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Deploy {version}</h2>
      <div className="filters">
        <SelectField
          label="Environment"
          value={selected?.name ?? ''}
          onChange={(e) => setEnv(e.target.value)}
        >
          {items.map((e) => (
            <option key={e.name} value={e.name} disabled={!perms.can('deploy', e.protected)}>
              {e.name}
              {e.protected ? ' (protected)' : ''}
              {perms.can('deploy', e.protected)
                ? ''
                : ` — needs ${e.protected ? 'release-manager' : 'deployer'}`}
            </option>
          ))}
        </SelectField>
        <StrategyField value={strategy} onChange={setStrategy} />
      </div>
      <TextField
        label={`Reason${reasonRequired ? '' : ' (optional)'}`}
        value={reason}
        maxLength={1000}
        required={reasonRequired}
        onChange={(e) => setReason(e.target.value)}
      />
      <FreezeOverrideField state={freeze} disabled={deploy.isPending} />
      {selected && !mayDeploy ? (
        <p className="field__hint">{perms.hint('deploy', selected.protected)}</p>
      ) : null}
      <div className="button-row load-more">
        <button type="submit" className="button" disabled={deploy.isPending || !mayDeploy}>
          {deploy.isPending ? 'pending…' : `Deploy to ${selected?.name ?? '…'}`}
        </button>
      </div>
      <ActionFeedback
        pending={deploy.isPending ? 'pending…' : null}
        error={deploy.error}
        success={
          deploy.data ? (
            <>
              Deployment started. <Link to={paths.deployment(deploy.data.id)}>Follow it</Link>
            </>
          ) : null
        }
      />
    </form>
  );
}
