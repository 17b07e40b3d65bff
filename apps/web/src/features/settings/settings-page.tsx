import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { useCurrentUser } from '../../hooks/api/auth/queries';
import { BackupsPanel } from './backups-panel';
import { EnvironmentsPanel } from './environments-panel';
import { isAdmin } from './settings-utils';
import { TokensPanel } from './tokens-panel';
import { UsersPanel } from './users-panel';
import { WebhookSettingsPanel } from './webhook-settings-panel';
import './one-time-secret.css';

export function SettingsPage() {
  const me = useCurrentUser();
  const admin = isAdmin(me.data?.role);
  return (
    <div className="page">
      <div className="page__header">
        <h1>Settings</h1>
        <p className="page__lead">
          People who may use Qubot Deploy, API tokens for CI and scripts, how each environment is guarded, and
          backups.
        </p>
      </div>
      {me.isPending ? (
        <LoadingState label="Checking your role…" />
      ) : me.isError ? (
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      ) : !admin ? (
        <EmptyState title="Settings need the admin role">
          <p>
            You are signed in as {me.data?.username ?? 'nobody'}
            {me.data?.role ? ` (${me.data.role})` : ''}. Ask an admin to manage users and API tokens.
          </p>
        </EmptyState>
      ) : (
        <div className="grid">
          <UsersPanel self={me.data?.username ?? ''} />
          <TokensPanel />
          <EnvironmentsPanel />
          <BackupsPanel />
          <WebhookSettingsPanel />
        </div>
      )}
    </div>
  );
}
