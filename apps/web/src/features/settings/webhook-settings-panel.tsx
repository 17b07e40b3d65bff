import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { CheckField, TextField } from '../../components/field';
import { ActionFeedback, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useUpdateWebhookSettings } from '../../hooks/api/webhooks/mutations';
import { useWebhookSettings, webhookKeys } from '../../hooks/api/webhooks/queries';

/** Settings → Webhooks (admin): whether webhook endpoints on private addresses are allowed. */
export function WebhookSettingsPanel() {
  const id = useId();
  const settings = useWebhookSettings();
  const update = useUpdateWebhookSettings();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState('');
  // While the change is on its way the box shows what was asked for, then what the server stored.
  const on = update.isPending
    ? (update.variables?.allowPrivateTargets ?? false)
    : (settings.data?.allowPrivateTargets ?? false);
  return (
    <section className="card" aria-labelledby={`${id}-webhooks`}>
      <h2 id={`${id}-webhooks`}>Webhooks</h2>
      {settings.isPending ? (
        <LoadingState label="Loading webhook settings…" />
      ) : settings.isError ? (
        <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />
      ) : (
        <>
          <p className="muted">
            Endpoints on loopback, private and link-local addresses are refused, so nobody who may create a
            webhook can reach into this network. Allow them only for endpoints you run yourself.
            {settings.data.updatedBy ? (
              <>
                {' '}
                Last changed by {settings.data.updatedBy} <Time iso={settings.data.updatedAt} />.
              </>
            ) : null}
          </p>
          <TextField
            label="Reason (audited)"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoComplete="off"
          />
          <CheckField
            label="Allow webhook endpoints on private addresses"
            checked={on}
            disabled={update.isPending}
            onChange={(e) =>
              update.mutate(
                {
                  allowPrivateTargets: e.target.checked,
                  ...(reason.trim() ? { reason: reason.trim() } : {}),
                },
                {
                  onSuccess: (saved) => {
                    setReason('');
                    queryClient.setQueryData(webhookKeys.settings(), saved);
                  },
                },
              )
            }
          />
          <ActionFeedback error={update.error} pending={update.isPending ? 'Saving…' : null} />
        </>
      )}
    </section>
  );
}
