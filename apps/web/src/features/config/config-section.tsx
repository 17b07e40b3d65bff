import type { Environment } from '@qubot/api-contract';
import { useState } from 'react';
import { ErrorState, LoadingState } from '../../components/states';
import { useCurrentUser } from '../../hooks/api/auth/queries';
import { useConfig } from '../../hooks/api/config/queries';
import { ConfigEditor } from './config-editor';
import { ConfigHistory } from './config-history';
import { canWriteConfig } from './config-utils';
import { CurrentConfig } from './current-config';

/** The environment page's "Configuration" section: current entries, editor, history with diffs. */
export function ConfigSection({ app, env }: { app: string; env: Environment }) {
  const me = useCurrentUser();
  const config = useConfig(app, env.name);
  const [editing, setEditing] = useState(false);
  const mayWrite = canWriteConfig(me.data?.role, env.protected);

  return (
    <section aria-labelledby="config-title" className="config">
      <div className="section-header">
        <h2 id="config-title">Configuration</h2>
        {mayWrite && config.data && !editing ? (
          <button type="button" className="button button--secondary" onClick={() => setEditing(true)}>
            Edit configuration
          </button>
        ) : null}
      </div>
      {config.isPending ? (
        <LoadingState label="Loading configuration…" />
      ) : config.isError ? (
        <ErrorState error={config.error} onRetry={() => void config.refetch()} />
      ) : editing ? (
        <ConfigEditor app={app} env={env.name} config={config.data} onDone={() => setEditing(false)} />
      ) : (
        <CurrentConfig config={config.data} env={env} mayWrite={mayWrite} />
      )}
      <ConfigHistory app={app} env={env.name} />
    </section>
  );
}
