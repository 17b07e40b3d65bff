import type { Deployment } from '@qubot/api-contract';
import { useEffect, useState } from 'react';
import { useDeploymentEta } from '../../hooks/api/observe/queries';
import { etaBasis, etaLabel } from './eta-utils';

/** "about N s left" for an active deployment, from the history of similar ones; nothing without it. */
export function DeploymentEtaStat({ d }: { d: Deployment }) {
  const active = d.status === 'pending' || d.status === 'running' || d.status === 'paused';
  const eta = useDeploymentEta(d.id, active);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    // A countdown on screen; the server is not asked again.
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  if (!active) return null;
  // Nobody can say how long a person takes: no countdown while it waits for one.
  if (d.waitingFor)
    return (
      <div className="stat">
        <dt>Time left</dt>
        <dd>
          <span className="muted small">depends on a person</span>
        </dd>
      </div>
    );
  const value = eta.data?.eta ?? null;
  return (
    <div className="stat">
      <dt>Time left</dt>
      <dd title={value ? etaBasis(value) : undefined}>
        {value ? (
          (etaLabel(value, now) ?? '—')
        ) : (
          <span className="muted small">{eta.isPending ? '…' : 'not enough history'}</span>
        )}
      </dd>
    </div>
  );
}
