import type { Environment, StrategyName } from '@qubot/api-contract';
import { useState } from 'react';
import { usePromote, useRollback, useSwitchTraffic } from '../../hooks/api/environments/mutations';
import { switchTarget } from './environment-utils';

export type EnvironmentAction = 'promote' | 'switch' | 'rollback';

/** One card's actions: which confirmation is open, the three mutations and the last outcome. */
export function useEnvironmentActions(app: string, env: Environment) {
  const promote = usePromote(app);
  const switchTraffic = useSwitchTraffic(app);
  const rollback = useRollback(app);
  const [dialog, setDialog] = useState<EnvironmentAction | null>(null);
  const [lastAction, setLastAction] = useState<EnvironmentAction | null>(null);
  const [success, setSuccess] = useState<{ text: string; deploymentId: string | null } | null>(null);

  const mutations = { promote, switch: switchTraffic, rollback } as const;

  const begin = (action: EnvironmentAction) => {
    for (const m of Object.values(mutations)) m.reset();
    setSuccess(null);
    setLastAction(action);
  };

  const open = (action: EnvironmentAction) => {
    begin(action);
    setDialog(action);
  };

  const done = (text: string, deploymentId: string | null) => {
    setDialog(null);
    setSuccess({ text, deploymentId });
  };

  const run = (
    action: EnvironmentAction,
    reason: string,
    strategy?: StrategyName,
    overrideFreeze = false,
    override = false,
  ) => {
    if (!dialog) begin(action);
    const r = reason || undefined;
    if (action === 'promote') {
      promote.mutate(
        {
          env: env.name,
          reason: r,
          strategy,
          ...(overrideFreeze ? { overrideFreeze } : {}),
          ...(override ? { override } : {}),
        },
        { onSuccess: (d) => done(`Promotion to ${env.name} started.`, d?.id ?? null) },
      );
    } else if (action === 'switch') {
      const target = switchTarget(env);
      if (!target) return;
      switchTraffic.mutate(
        { env: env.name, activeColor: target.color, reason: r },
        { onSuccess: () => done(`Traffic switched to ${target.color}.`, null) },
      );
    } else {
      rollback.mutate(
        { env: env.name, reason: r, ...(overrideFreeze ? { overrideFreeze } : {}) },
        { onSuccess: (d) => done(`Rollback of ${env.name} started.`, d?.id ?? null) },
      );
    }
  };

  const current = lastAction ? mutations[lastAction] : null;
  return {
    dialog,
    open,
    run,
    cancel: () => setDialog(null),
    pendingAction: current?.isPending ? lastAction : null,
    error: current?.error ?? null,
    success,
  };
}
