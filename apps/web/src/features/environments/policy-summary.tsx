import { usePausePolicy } from '../../hooks/api/policies/mutations';
import { usePolicies } from '../../hooks/api/policies/queries';
import { useNow } from '../../lib/use-now';
import { usePermissions } from '../../lib/use-permissions';
import { policySentence } from './policy-utils';

/**
 * The card's promotion policy line: what it will do next and when ("Promotes 1.2.0 at 14:05 if
 * still healthy"), and the one-click pause (release-managers; admins edit the policy on the
 * environment's page).
 */
export function PolicySummary({ app, env, isProtected }: { app: string; env: string; isProtected: boolean }) {
  const policies = usePolicies(app);
  const pause = usePausePolicy(app, env);
  const now = useNow();
  const perms = usePermissions();
  const item = policies.data?.items.find((i) => i.environment === env);
  if (!item) return null;
  const auto = item.policy.mode === 'auto';
  const mayPause = perms.can('promote', isProtected);
  const action = item.policy.paused ? 'resume' : 'pause';
  return (
    <section className="env-card__policy" aria-label={`Promotion policy of ${env}`}>
      <p className="small">
        <span className={`badge ${auto && !item.policy.paused ? '' : 'badge--muted'}`}>
          {auto ? (item.policy.paused ? 'policy paused' : 'auto') : 'manual'}
        </span>{' '}
        <span data-testid={`policy-next-${env}`}>{policySentence(item, new Date(now))}</span>
      </p>
      {auto ? (
        <button
          type="button"
          className="button button--secondary button--small"
          disabled={!mayPause || pause.isPending}
          title={mayPause ? undefined : perms.hint('promote', isProtected)}
          onClick={() => pause.mutate({ action })}
        >
          {action === 'pause' ? 'Pause policy' : 'Resume policy'}
        </button>
      ) : null}
      {pause.error ? (
        <p className="feedback feedback--error" role="alert">
          {pause.error.message}
        </p>
      ) : null}
    </section>
  );
}
