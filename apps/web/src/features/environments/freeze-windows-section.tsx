import type { FreezeWindow } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { TextField } from '../../components/field';
import { ActionFeedback, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCreateFreezeWindow, useDeleteFreezeWindow } from '../../hooks/api/freeze-windows/mutations';
import { useFreezeWindows } from '../../hooks/api/freeze-windows/queries';
import { usePermissions } from '../../lib/use-permissions';
import { fromLocalInput, recurrenceLabel, toLocalInput } from './freeze-utils';
import './freeze-windows-section.css';

/**
 * An environment's freeze windows: everyone sees them; release-managers and admins add one-off
 * windows and remove any (weekly windows are created through the API or CLI).
 */
export function FreezeWindowsSection({ app, env }: { app: string; env: string }) {
  const windows = useFreezeWindows(app, env);
  const perms = usePermissions();
  const mayManage = perms.can('freeze.manage');
  const items = windows.data?.items ?? [];

  return (
    <section className="card" aria-labelledby="freeze-title">
      <h2 id="freeze-title">Freeze windows</h2>
      <p className="field__hint">
        While a window is active, new deployments to {env} are refused; an admin can override with a reason.
      </p>
      {windows.isPending ? (
        <LoadingState label="Loading freeze windows…" />
      ) : windows.isError ? (
        <ErrorState error={windows.error} onRetry={() => void windows.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">No freeze windows.</p>
      ) : (
        <ul className="freeze-list" aria-label={`Freeze windows of ${env}`}>
          {items.map((w) => (
            <FreezeWindowItem key={w.id} app={app} env={env} window={w} mayManage={mayManage} />
          ))}
        </ul>
      )}
      {mayManage ? (
        <NewFreezeWindowForm app={app} env={env} />
      ) : (
        <p className="field__hint">{`Adding or removing windows: ${perms.hint('freeze.manage')}`}</p>
      )}
    </section>
  );
}

function FreezeWindowItem({
  app,
  env,
  window: w,
  mayManage,
}: {
  app: string;
  env: string;
  window: FreezeWindow;
  mayManage: boolean;
}) {
  const remove = useDeleteFreezeWindow(app, env);
  const [confirming, setConfirming] = useState(false);
  const weekly = recurrenceLabel(w);
  return (
    <li className="freeze-list__item">
      <p>
        <strong>{w.reason}</strong>{' '}
        {w.active ? (
          <span className="badge badge--bad">active now</span>
        ) : (
          <span className="badge badge--muted">scheduled</span>
        )}
      </p>
      <p className="muted small">
        {weekly ?? (
          <>
            from <Time iso={w.startsAt} relative={false} /> until <Time iso={w.endsAt} relative={false} />
          </>
        )}{' '}
        · by {w.createdBy}
      </p>
      {mayManage ? (
        confirming ? (
          <div className="button-row">
            <span>Remove “{w.reason}”?</span>
            <button
              type="button"
              className="button button--danger button--small"
              disabled={remove.isPending}
              onClick={() => remove.mutate({ id: w.id })}
            >
              {remove.isPending ? 'pending…' : 'Yes, remove'}
            </button>
            <button
              type="button"
              className="button button--secondary button--small"
              disabled={remove.isPending}
              onClick={() => setConfirming(false)}
            >
              Keep
            </button>
          </div>
        ) : (
          <button
            type="button"
            className="button button--secondary button--small"
            aria-label={`Remove freeze window ${w.reason}`}
            onClick={() => {
              remove.reset();
              setConfirming(true);
            }}
          >
            Remove
          </button>
        )
      ) : null}
      <ActionFeedback error={remove.error} />
    </li>
  );
}

function NewFreezeWindowForm({ app, env }: { app: string; env: string }) {
  const create = useCreateFreezeWindow(app, env);
  const id = useId();
  const [reason, setReason] = useState('');
  const [startsAt, setStartsAt] = useState(() => toLocalInput(new Date()));
  const [endsAt, setEndsAt] = useState(() => toLocalInput(new Date(Date.now() + 3_600_000)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const from = fromLocalInput(startsAt) ?? new Date().toISOString();
    const until = fromLocalInput(endsAt);
    if (!reason.trim() || !until) return;
    create.mutate(
      { reason: reason.trim(), startsAt: from, endsAt: until },
      { onSuccess: () => setReason('') },
    );
  };

  return (
    <form onSubmit={submit} aria-labelledby={`${id}-title`} className="freeze-form">
      <h3 id={`${id}-title`}>Add a freeze window</h3>
      <div className="filters">
        <TextField
          label="Freeze reason"
          value={reason}
          maxLength={1000}
          required
          onChange={(e) => setReason(e.target.value)}
        />
        <TextField
          label="Starts"
          type="datetime-local"
          value={startsAt}
          onChange={(e) => setStartsAt(e.target.value)}
        />
        <TextField
          label="Ends"
          type="datetime-local"
          value={endsAt}
          required
          onChange={(e) => setEndsAt(e.target.value)}
        />
      </div>
      <div className="button-row">
        <button type="submit" className="button" disabled={create.isPending || !reason.trim()}>
          {create.isPending ? 'pending…' : 'Add freeze window'}
        </button>
      </div>
      <ActionFeedback
        pending={create.isPending ? 'pending…' : null}
        error={create.error}
        success={create.data && !create.isPending ? `Freeze window “${create.data.reason}” added.` : null}
      />
    </form>
  );
}
