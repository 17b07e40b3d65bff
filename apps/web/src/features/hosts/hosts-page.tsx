import type { CreatedEnrolmentToken, Host } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { TextField } from '../../components/field';
import { ActionFeedback, EmptyState, ErrorState, LoadingState } from '../../components/states';
import { StatusBadge } from '../../components/status-badge';
import { Time } from '../../components/time';
import { useCreateEnrolmentToken, useHostAction } from '../../hooks/api/hosts/mutations';
import { useHosts } from '../../hooks/api/hosts/queries';
import { useHostsSubscription } from '../../lib/use-event-stream';
import { OneTimeSecret } from '../settings/one-time-secret';
import {
  agentCommand,
  cpuText,
  type HostActionName,
  hostActions,
  memoryText,
  needsConfirmation,
  parseExpiryMinutes,
  tokenNameProblem,
} from './hosts-utils';

const LABELS: Record<HostActionName, string> = {
  cordon: 'Cordon',
  uncordon: 'Uncordon',
  drain: 'Drain',
  revoke: 'Revoke',
};

/** Enrolment: a one-time token, shown once with the command to run on the new host. */
function EnrolmentPanel() {
  const id = useId();
  const create = useCreateEnrolmentToken();
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('60');
  const [touched, setTouched] = useState(false);
  const [created, setCreated] = useState<CreatedEnrolmentToken | null>(null);
  const nameProblem = tokenNameProblem(name);
  const minutes = parseExpiryMinutes(expiry);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (nameProblem || minutes === null || create.isPending) return;
    create.mutate(
      { name: name.trim(), expiresInMinutes: minutes },
      {
        onSuccess: (res) => {
          setCreated(res);
          setName('');
          setTouched(false);
        },
      },
    );
  };
  return (
    <section className="card" aria-labelledby={`${id}-enrol`}>
      <h2 id={`${id}-enrol`}>Enrol a host</h2>
      <form className="filters" aria-label="Create an enrolment token" onSubmit={submit} noValidate>
        <TextField
          label="Token name"
          error={touched ? nameProblem : null}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
        />
        <TextField
          label="Expires in (minutes)"
          hint="1–10080 (7 days). Works once."
          invalid={touched && minutes === null}
          inputMode="numeric"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
        />
        <div className="button-row">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create enrolment token'}
          </button>
        </div>
      </form>
      <ActionFeedback error={create.error} pending={null} />
      {created ? (
        <OneTimeSecret
          label={`Enrolment token ${created.token.name}`}
          value={created.secret}
          hint={`Shown once, works once, expires ${new Date(created.token.expiresAt).toLocaleString()}. On the host: ${agentCommand(window.location.origin, '<token>')}`}
        />
      ) : null}
    </section>
  );
}

/** Hosts (admin): each enrolled machine, its agent and figures; cordon, drain, revoke. */
export function HostsPage() {
  const id = useId();
  const hosts = useHosts();
  useHostsSubscription();
  const act = useHostAction();
  const [confirm, setConfirm] = useState<{ id: string; action: HostActionName } | null>(null);

  const columns: Column<Host>[] = [
    {
      key: 'name',
      header: 'Host',
      rowHeader: true,
      cell: (h) => (
        <>
          {h.name} <span className="mono muted small">{h.address}</span>
        </>
      ),
    },
    { key: 'state', header: 'State', cell: (h) => <StatusBadge status={h.state} /> },
    { key: 'agent', header: 'Agent', cell: (h) => h.agentVersion ?? '—' },
    { key: 'instances', header: 'Instances', cell: (h) => `${h.instances} / ${h.capacity}` },
    { key: 'cpu', header: 'CPU', cell: (h) => cpuText(h.cpuPercent) },
    { key: 'memory', header: 'Memory', cell: (h) => memoryText(h.memoryUsedBytes, h.memoryTotalBytes) },
    { key: 'seen', header: 'Last seen', cell: (h) => <Time iso={h.lastSeenAt} /> },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (h) =>
        confirm?.id === h.id ? (
          <div className="button-row">
            <button
              type="button"
              className="button button--danger button--small"
              disabled={act.isPending}
              onClick={() =>
                act.mutate({ id: h.id, action: confirm.action }, { onSuccess: () => setConfirm(null) })
              }
            >
              Confirm {confirm.action}
              <span className="visually-hidden"> {h.name}</span>
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setConfirm(null)}
            >
              Keep
            </button>
          </div>
        ) : (
          <div className="button-row">
            {hostActions(h).map((a) => (
              <button
                key={a}
                type="button"
                className="button button--ghost button--small"
                disabled={act.isPending}
                onClick={() =>
                  needsConfirmation(a)
                    ? setConfirm({ id: h.id, action: a })
                    : act.mutate({ id: h.id, action: a })
                }
              >
                {LABELS[a]}
                <span className="visually-hidden"> {h.name}</span>
              </button>
            ))}
          </div>
        ),
    },
  ];

  return (
    <div className="page">
      <div className="page__header">
        <h1>Hosts</h1>
        <p className="page__lead">
          Machines running <code>qubot agent</code>, for environments whose instances run on hosts (their
          placement setting). State and figures come from each agent's heartbeats.
        </p>
      </div>
      <div className="grid">
        <section className="card" aria-labelledby={`${id}-hosts`}>
          <h2 id={`${id}-hosts`}>Enrolled hosts</h2>
          <ActionFeedback error={act.error} pending={act.isPending ? 'Working…' : null} />
          <DataTable
            placeholder={
              hosts.isPending ? (
                <LoadingState label="Loading hosts…" />
              ) : hosts.isError ? (
                <ErrorState error={hosts.error} onRetry={() => void hosts.refetch()} />
              ) : hosts.data.items.length === 0 ? (
                <EmptyState title="No host enrolled yet" />
              ) : null
            }
            caption="Enrolled hosts"
            columns={columns}
            rows={hosts.data?.items ?? []}
            rowKey={(h) => h.id}
          />
        </section>
        <EnrolmentPanel />
      </div>
    </div>
  );
}
