import { type Environment, SYNTHETIC_LOAD_RPS } from '@qubot/api-contract';
import { useSetSyntheticLoad } from '../../hooks/api/environments/mutations';
import { useEnvironmentMetrics } from '../../hooks/api/observe/queries';
import { useNow } from '../../lib/use-now';
import { usePermissions } from '../../lib/use-permissions';
import { liveHealth } from './card-health-utils';

/**
 * The live version's error rate and p95 over the last minute, from the router's figures (live
 * samples, no polling): "2/2 healthy" beside "31 % errors" tells the whole story.
 */
export function LiveTrafficHealth({ app, env }: { app: string; env: Environment }) {
  const metrics = useEnvironmentMetrics(app, env.name);
  const now = useNow();
  const h = liveHealth(metrics.data?.samples ?? [], env.live?.version ?? null, now);
  return (
    <div>
      <dt>Live traffic</dt>
      <dd>
        <span className={`health health--${h.tone}`} title="Last minute, from the environment's router">
          {h.text}
        </span>
      </dd>
    </div>
  );
}

/** Demo environments: the steady synthetic load, shown and switchable (release-manager, audited). */
export function SyntheticLoadFact({ app, env }: { app: string; env: Environment }) {
  const perms = usePermissions();
  const toggle = useSetSyntheticLoad(app, env.name);
  if (env.syntheticLoad === null || env.syntheticLoad === undefined) return null;
  const on = env.syntheticLoad;
  const allowed = perms.can('traffic', env.protected);
  return (
    <div>
      <dt>Synthetic load</dt>
      <dd>
        <span className={on ? '' : 'muted'}>{on ? `on · ${SYNTHETIC_LOAD_RPS} requests/s` : 'off'}</span>{' '}
        <button
          type="button"
          className="button button--secondary"
          disabled={!allowed || toggle.isPending}
          title={allowed ? undefined : perms.hint('traffic', env.protected)}
          onClick={() => toggle.mutate(!on)}
          aria-label={`${on ? 'Stop' : 'Start'} the synthetic load on ${env.name}`}
        >
          {toggle.isPending ? 'pending…' : on ? 'Stop' : 'Start'}
        </button>
        {toggle.error ? (
          <span className="feedback feedback--error" role="alert">
            {' '}
            {toggle.error.message}
          </span>
        ) : null}
      </dd>
    </div>
  );
}
