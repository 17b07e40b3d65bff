import type { Environment, StrategyName } from '@qubot/api-contract';
import { useState } from 'react';
import { Link } from 'react-router';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { SelectField } from '../../components/field';
import { useCreateDeployment } from '../../hooks/api/deployments/mutations';
import { useReleases } from '../../hooks/api/releases/queries';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';
import { StrategyField } from './strategy-field';

/**
 * "Deploy…" on a pipeline card: any release to this environment, with a strategy and a reason
 * (required where the environment is protected).
 */
export function DeployButton({ app, env, disabled }: { app: string; env: Environment; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const perms = usePermissions();
  const mayDeploy = perms.can('deploy', env.protected);
  const deploy = useCreateDeployment(app);
  const [startedId, setStartedId] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="button button--secondary"
        disabled={disabled || !mayDeploy}
        title={mayDeploy ? undefined : perms.hint('deploy', env.protected)}
        onClick={() => {
          deploy.reset();
          setStartedId(null);
          setOpen(true);
        }}
      >
        Deploy…
      </button>
      {startedId ? (
        <p className="feedback small" role="status">
          Deployment started. <Link to={paths.deployment(startedId)}>Follow it</Link>
        </p>
      ) : null}
      {open ? (
        <DeployDialog
          app={app}
          env={env}
          deploy={deploy}
          onDone={(id) => {
            setOpen(false);
            setStartedId(id);
          }}
          onCancel={() => setOpen(false)}
        />
      ) : null}
    </>
  );
}

function DeployDialog({
  app,
  env,
  deploy,
  onDone,
  onCancel,
}: {
  app: string;
  env: Environment;
  deploy: ReturnType<typeof useCreateDeployment>;
  onDone: (id: string) => void;
  onCancel: () => void;
}) {
  const releases = useReleases(app);
  const items = releases.data?.pages.flatMap((p) => p.items) ?? [];
  const [version, setVersion] = useState('');
  const [strategy, setStrategy] = useState<StrategyName>('blue-green');
  const chosen = version || items.find((r) => r.version !== env.live?.version)?.version || '';
  return (
    <ConfirmDialog
      open
      title={`Deploy to ${env.name}`}
      confirmLabel={chosen ? `Deploy ${chosen}` : 'Deploy'}
      danger={env.protected}
      requireReason={env.protected}
      pending={deploy.isPending}
      error={deploy.error}
      onConfirm={(reason) => {
        if (!chosen) return;
        deploy.mutate(
          { env: env.name, version: chosen, strategy, reason: reason || undefined },
          { onSuccess: (d) => onDone(d.id) },
        );
      }}
      onCancel={onCancel}
    >
      <SelectField
        label="Release"
        value={chosen}
        onChange={(e) => setVersion(e.target.value)}
        disabled={releases.isPending}
      >
        {items.map((r) => (
          <option key={r.id} value={r.version}>
            {r.version}
            {r.version === env.live?.version ? ' (live here)' : ''}
          </option>
        ))}
      </SelectField>
      <StrategyField value={strategy} onChange={setStrategy} />
      {env.protected ? <p className="muted small">{env.name} is protected: a reason is required.</p> : null}
    </ConfirmDialog>
  );
}
