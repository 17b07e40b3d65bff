import type { Environment } from '@qubot/api-contract';
import { Link } from 'react-router';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { ColorChip } from '../../components/status-badge';
import { TrafficBar } from '../../components/traffic-bar';
import { paths } from '../../lib/paths';
import { usePermissions } from '../../lib/use-permissions';
import { ActiveDeployment } from './active-deployment';
import { LiveTrafficHealth, SyntheticLoadFact } from './card-health';
import { ConfigDriftFact } from './config-drift';
import { DeployButton } from './deploy-dialog';
import {
  type ActionAvailability,
  healthSummary,
  promoteAvailability,
  rollbackAvailability,
  switchAvailability,
  switchTarget,
} from './environment-utils';
import { PolicySummary } from './policy-summary';
import { PromoteDialog } from './promote-dialog';
import { RollbackDialog } from './rollback-dialog';
import { useEnvironmentActions } from './use-environment-actions';
import './environment-card.css';

export function EnvironmentCard({
  app,
  environments,
  index,
}: {
  app: string;
  environments: readonly Environment[];
  index: number;
}) {
  const env = environments[index]!;
  const actions = useEnvironmentActions(app, env);
  const health = healthSummary(env);
  const perms = usePermissions();
  // What the state allows, then what the role allows (the server checks both again). A role that
  // never allows the action outranks a deployment in progress, which only delays it.
  const allowed = <T extends ActionAvailability>(a: T, permission: 'promote' | 'traffic' | 'rollback'): T =>
    (a.disabled && !a.transient) || perms.can(permission, env.protected)
      ? a
      : { ...a, disabled: true, hint: perms.hint(permission, env.protected) };
  const promote = allowed(promoteAvailability(environments, index), 'promote');
  const switching = allowed(switchAvailability(env), 'traffic');
  const target = switchTarget(env);
  const rollback = allowed(rollbackAvailability(env), 'rollback');
  const busy = actions.pendingAction !== null;
  const hintId = `env-${env.name}-hints`;

  // Always through the preview: what ships, the changelogs in between and the configuration
  // differences; a reason is required only for protected environments.
  const onPromote = () => actions.open('promote');

  return (
    <section className="card env-card" aria-label={`Environment ${env.name}`}>
      <header className="env-card__header">
        <h2 className="env-card__name">
          <Link to={paths.environment(app, env.name)}>{env.name}</Link>
        </h2>
        {env.protected ? <span className="badge badge--protected">protected</span> : null}
        {env.requiresApproval ? <span className="badge badge--muted">approval</span> : null}
      </header>

      <p className="env-card__live">
        {env.live ? (
          <>
            Live <strong>{env.live.version}</strong>
          </>
        ) : (
          <span className="muted">Nothing live</span>
        )}
      </p>

      <dl className="facts">
        <div>
          <dt>Health</dt>
          <dd>
            <span className={`health health--${health.tone}`}>{health.label}</span>
          </dd>
        </div>
        {env.live ? <LiveTrafficHealth app={app} env={env} /> : null}
        <SyntheticLoadFact app={app} env={env} />
        <ConfigDriftFact app={app} env={env} />
        <div>
          <dt>Active colour</dt>
          <dd>
            <ColorChip color={env.activeColor} />
          </dd>
        </div>
        <div>
          <dt>Address</dt>
          <dd>
            {env.address ? (
              <a href={env.address} target="_blank" rel="noopener noreferrer" className="break">
                {env.address}
              </a>
            ) : (
              <span className="muted">not assigned</span>
            )}
          </dd>
        </div>
      </dl>

      <TrafficBar traffic={env.traffic} label={`Traffic split in ${env.name}`} />

      {env.activeDeployment ? (
        <ActiveDeployment deployment={env.activeDeployment} isProtected={env.protected} />
      ) : (
        <p className="muted small">No active deployment</p>
      )}

      <PolicySummary app={app} env={env.name} isProtected={env.protected} />

      <div className="env-card__actions">
        <button
          type="button"
          className="button"
          onClick={onPromote}
          disabled={promote.disabled || busy}
          aria-describedby={hintId}
          title={promote.hint}
        >
          {actions.pendingAction === 'promote' && !actions.dialog ? 'pending…' : 'Promote →'}
        </button>
        <button
          type="button"
          className="button button--secondary"
          onClick={() => actions.open('switch')}
          disabled={switching.disabled || busy}
          aria-describedby={`${hintId}-switch`}
          title={switching.hint}
        >
          Switch traffic
        </button>
        <button
          type="button"
          className="button button--secondary"
          onClick={() => actions.open('rollback')}
          disabled={rollback.disabled || busy}
          aria-describedby={`${hintId}-rollback`}
          title={rollback.hint}
        >
          {rollback.label}
        </button>
        <DeployButton app={app} env={env} disabled={Boolean(env.activeDeployment) || busy} />
      </div>
      <p id={hintId} className="visually-hidden">
        {promote.hint}
      </p>
      <p id={`${hintId}-switch`} className="visually-hidden">
        {switching.hint}
      </p>
      <p id={`${hintId}-rollback`} className="visually-hidden">
        {rollback.hint}
      </p>

      <p className="feedback" role="status" aria-live="polite">
        {actions.pendingAction && !actions.dialog ? 'pending…' : null}
        {actions.success ? (
          <>
            {actions.success.text}{' '}
            {actions.success.deploymentId ? (
              <Link to={paths.deployment(actions.success.deploymentId)}>Follow it</Link>
            ) : null}
          </>
        ) : null}
      </p>
      {actions.error && !actions.dialog ? (
        <p className="feedback feedback--error" role="alert">
          {actions.error.message}
        </p>
      ) : null}

      <PromoteDialog
        open={actions.dialog === 'promote'}
        app={app}
        env={env}
        pending={actions.pendingAction === 'promote'}
        error={actions.dialog === 'promote' ? actions.error : null}
        onConfirm={(reason, strategy, overrideFreeze, override) =>
          actions.run('promote', reason, strategy, overrideFreeze, override)
        }
        onCancel={actions.cancel}
      />

      <ConfirmDialog
        open={actions.dialog === 'switch'}
        title={`Switch traffic in ${env.name}?`}
        confirmLabel={target ? `Switch to ${target.color}` : 'Switch'}
        danger
        pending={actions.pendingAction === 'switch'}
        error={actions.dialog === 'switch' ? actions.error : null}
        onConfirm={(reason) => actions.run('switch', reason)}
        onCancel={actions.cancel}
      >
        {target ? (
          <p>
            All new requests will go to <strong>{target.color}</strong>
            {target.version ? (
              <>
                {' '}
                running <strong>{target.version}</strong>
              </>
            ) : null}{' '}
            ({target.healthy}/{target.instances} instances healthy). In-flight requests on {env.activeColor}{' '}
            are drained.
          </p>
        ) : null}
      </ConfirmDialog>

      <RollbackDialog
        open={actions.dialog === 'rollback'}
        envName={env.name}
        rollback={rollback}
        pending={actions.pendingAction === 'rollback'}
        error={actions.dialog === 'rollback' ? actions.error : null}
        onConfirm={(reason, overrideFreeze) => actions.run('rollback', reason, undefined, overrideFreeze)}
        onCancel={actions.cancel}
      />
    </section>
  );
}
