import type {
  CreatedWebhook,
  Webhook,
  WebhookDelivery,
  WebhookEvent,
  WebhookFormat,
} from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { useParams } from 'react-router';
import { actionsHeader, type Column, DataTable } from '../../components/data-table';
import { CheckField, Options, SelectField, TextField } from '../../components/field';
import { ActionFeedback, EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCurrentApplication } from '../../hooks/api/applications/queries';
import {
  useCreateWebhook,
  useDeleteWebhook,
  useRedeliver,
  useUpdateWebhook,
} from '../../hooks/api/webhooks/mutations';
import { useWebhookDeliveries, useWebhooks } from '../../hooks/api/webhooks/queries';
import { usePermissions } from '../../lib/use-permissions';
import { OneTimeSecret } from '../settings/one-time-secret';
import '../settings/one-time-secret.css';
import {
  attemptSummary,
  canRedeliver,
  deliveryTone,
  WEBHOOK_EVENT_OPTIONS,
  webhookFormProblems,
} from './webhook-utils';
import './webhooks-page.css';

const FORMATS = [
  { value: 'json', label: 'JSON (the event and the resource view)' },
  { value: 'slack', label: 'Slack incoming webhook (a text message)' },
];

interface FormState {
  name: string;
  url: string;
  events: WebhookEvent[];
  format: WebhookFormat;
  enabled: boolean;
}

/** The fields of a webhook: used to create one and to edit one. */
function WebhookForm({
  label,
  initial,
  submitLabel,
  pending,
  onSubmit,
  onCancel,
}: {
  label: string;
  initial: FormState;
  submitLabel: string;
  pending: boolean;
  onSubmit: (form: FormState) => void;
  onCancel?: () => void;
}) {
  const id = useId();
  const [form, setForm] = useState<FormState>(initial);
  const [touched, setTouched] = useState(false);
  const problems = webhookFormProblems(form);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (problems.name || problems.url || problems.events || pending) return;
    onSubmit({ ...form, name: form.name.trim(), url: form.url.trim() });
  };
  const toggle = (e: WebhookEvent, on: boolean) =>
    setForm((f) => ({ ...f, events: on ? [...f.events, e] : f.events.filter((x) => x !== e) }));
  return (
    <form className="webhook-form" aria-label={label} onSubmit={submit} noValidate>
      <div className="filters">
        <TextField
          label="Name"
          value={form.name}
          error={touched ? problems.name : null}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          autoComplete="off"
        />
        <TextField
          label="Endpoint URL"
          value={form.url}
          error={touched ? problems.url : null}
          hint="Private and loopback addresses are refused unless an admin allows them."
          onChange={(e) => setForm({ ...form, url: e.target.value })}
          inputMode="url"
          autoComplete="off"
        />
        <SelectField
          label="Format"
          value={form.format}
          onChange={(e) => setForm({ ...form, format: e.target.value as WebhookFormat })}
        >
          <Options items={FORMATS} />
        </SelectField>
        <CheckField
          label="Enabled"
          checked={form.enabled}
          onChange={(e) => setForm({ ...form, enabled: e.target.checked })}
        />
      </div>
      <fieldset
        className="fieldset"
        aria-describedby={touched && problems.events ? `${id}-events` : undefined}
      >
        <legend>Event types</legend>
        {WEBHOOK_EVENT_OPTIONS.map((o) => (
          <CheckField
            key={o.value}
            label={o.label}
            checked={form.events.includes(o.value)}
            onChange={(e) => toggle(o.value, e.target.checked)}
          />
        ))}
        {touched && problems.events ? (
          <p id={`${id}-events`} className="feedback feedback--error">
            {problems.events}
          </p>
        ) : null}
      </fieldset>
      <div className="button-row">
        <button type="submit" className="button" disabled={pending}>
          {pending ? 'Saving…' : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="button button--ghost" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** A webhook's delivery log: newest first, more on demand, each finished delivery can be sent again. */
function DeliveryLog({ app, hook }: { app: string; hook: Webhook }) {
  const id = useId();
  const log = useWebhookDeliveries(app, hook.id);
  const redeliver = useRedeliver(app, hook.id);
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  const columns: Column<WebhookDelivery>[] = [
    {
      key: 'event',
      header: 'Event',
      rowHeader: true,
      cell: (d) => (
        <>
          {d.event} <span className="muted small">#{d.eventSeq}</span>
          {d.redeliveryOf ? <span className="muted small"> (sent again by {d.requestedBy})</span> : null}
        </>
      ),
    },
    {
      key: 'status',
      header: 'Status',
      cell: (d) => <span className={`badge badge--${deliveryTone(d.status)}`}>{d.status}</span>,
    },
    { key: 'attempts', header: 'Attempts', cell: (d) => d.attempts },
    { key: 'result', header: 'Last attempt', cell: (d) => attemptSummary(d) },
    {
      key: 'answer',
      header: 'Answer',
      cell: (d) =>
        d.responseExcerpt ? <span className="mono small">{d.responseExcerpt.slice(0, 120)}</span> : '—',
    },
    { key: 'at', header: 'Queued', cell: (d) => <Time iso={d.createdAt} /> },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (d) =>
        canRedeliver(d, items) ? (
          <button
            type="button"
            className="button button--ghost button--small"
            disabled={redeliver.isPending}
            onClick={() => redeliver.mutate(d.id)}
          >
            Redeliver
            <span className="visually-hidden">
              {' '}
              {d.event} #{d.eventSeq}
            </span>
          </button>
        ) : null,
    },
  ];
  return (
    <section className="card" aria-labelledby={`${id}-log`}>
      <h2 id={`${id}-log`}>Deliveries of {hook.name}</h2>
      <ActionFeedback
        error={redeliver.error}
        pending={redeliver.isPending ? 'Queuing the redelivery…' : null}
        success={redeliver.isSuccess ? 'Queued: it is sent again within seconds.' : null}
      />
      <DataTable
        placeholder={
          log.isPending ? (
            <LoadingState label="Loading deliveries…" />
          ) : log.isError ? (
            <ErrorState error={log.error} onRetry={() => void log.refetch()} />
          ) : items.length === 0 ? (
            <EmptyState title="No deliveries yet">
              <p>Each chosen event of {app} is delivered here as it happens.</p>
            </EmptyState>
          ) : null
        }
        caption={`Delivery log of ${hook.name}`}
        columns={columns}
        rows={items}
        rowKey={(d) => d.id}
      />
      {log.hasNextPage ? (
        <button
          type="button"
          className="button button--secondary"
          disabled={log.isFetchingNextPage}
          onClick={() => void log.fetchNextPage()}
        >
          {log.isFetchingNextPage ? 'Loading…' : 'Older deliveries'}
        </button>
      ) : null}
    </section>
  );
}

/** Outgoing webhooks of an application (release-manager and admin): create, edit, delete, log. */
export function WebhooksPage() {
  const id = useId();
  const params = useParams();
  const current = useCurrentApplication(params.app);
  const app = current.name ?? '';
  const perms = usePermissions();
  const allowed = perms.role === 'release-manager' || perms.role === 'admin';
  const hooks = useWebhooks(app, allowed);
  const create = useCreateWebhook(app);
  const update = useUpdateWebhook(app);
  const remove = useDeleteWebhook(app);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const [formKey, setFormKey] = useState(0);
  const list = hooks.data?.items ?? [];
  const shown = list.find((h) => h.id === selected) ?? null;
  const editingHook = list.find((h) => h.id === editing) ?? null;

  const columns: Column<Webhook>[] = [
    { key: 'name', header: 'Name', rowHeader: true, cell: (h) => h.name },
    { key: 'url', header: 'Endpoint', cell: (h) => <span className="mono small">{h.url}</span> },
    { key: 'events', header: 'Events', cell: (h) => h.events.join(', ') },
    { key: 'format', header: 'Format', cell: (h) => h.format },
    { key: 'enabled', header: 'Enabled', cell: (h) => (h.enabled ? 'yes' : 'no') },
    {
      key: 'actions',
      header: actionsHeader,
      cell: (h) =>
        confirmDelete === h.id ? (
          <div className="button-row">
            <button
              type="button"
              className="button button--danger button--small"
              disabled={remove.isPending}
              onClick={() =>
                remove.mutate(h.id, {
                  onSuccess: () => {
                    setConfirmDelete(null);
                    if (selected === h.id) setSelected(null);
                  },
                })
              }
            >
              Confirm delete<span className="visually-hidden"> {h.name}</span>
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setConfirmDelete(null)}
            >
              Keep
            </button>
          </div>
        ) : (
          <div className="button-row">
            {(
              [
                ['Deliveries', ` of ${h.name}`, () => setSelected(h.id)],
                ['Edit', ` ${h.name}`, () => setEditing(h.id)],
                ['Delete', ` ${h.name}`, () => setConfirmDelete(h.id)],
              ] as const
            ).map(([label, rest, onClick]) => (
              <button
                key={label}
                type="button"
                className="button button--ghost button--small"
                onClick={onClick}
              >
                {label}
                <span className="visually-hidden">{rest}</span>
              </button>
            ))}
          </div>
        ),
    },
  ];

  return (
    <div className="page">
      <div className="page__header">
        <h1>Webhooks{app ? ` of ${app}` : ''}</h1>
        <p className="page__lead">
          Signed HTTP notifications of this application's events — deployments, approvals, releases — to your
          chat or tools, retried until they arrive, with a log of every delivery.
        </p>
      </div>
      {perms.me === null ? (
        <LoadingState label="Checking your role…" />
      ) : !allowed ? (
        <EmptyState title="Webhooks need the release-manager role">
          <p>
            You are signed in as {perms.me.username} ({perms.role}).
          </p>
        </EmptyState>
      ) : (
        <div className="grid">
          <section className="card" aria-labelledby={`${id}-new`}>
            <h2 id={`${id}-new`}>New webhook</h2>
            <WebhookForm
              key={formKey}
              label="Create a webhook"
              submitLabel="Create webhook"
              pending={create.isPending}
              initial={{
                name: '',
                url: '',
                events: ['deployment.approval_requested'],
                format: 'json',
                enabled: true,
              }}
              onSubmit={(form) =>
                create.mutate(form, {
                  onSuccess: (res) => {
                    setCreated(res);
                    setSelected(res.id);
                    setFormKey((k) => k + 1);
                  },
                })
              }
            />
            <ActionFeedback error={create.error} />
            {created ? (
              <OneTimeSecret
                label={`Signing secret of webhook ${created.name}`}
                value={created.secret}
                hint="Shown once: copy it now. Verify the X-Qubot-Signature header with it (docs/webhooks.md)."
              />
            ) : null}
          </section>
          {editingHook ? (
            <section className="card" aria-labelledby={`${id}-edit`}>
              <h2 id={`${id}-edit`}>Edit {editingHook.name}</h2>
              <WebhookForm
                key={editingHook.id}
                label={`Edit webhook ${editingHook.name}`}
                submitLabel="Save changes"
                pending={update.isPending}
                initial={{
                  name: editingHook.name,
                  url: editingHook.url,
                  events: editingHook.events,
                  format: editingHook.format,
                  enabled: editingHook.enabled,
                }}
                onSubmit={(form) =>
                  update.mutate({ id: editingHook.id, body: form }, { onSuccess: () => setEditing(null) })
                }
                onCancel={() => setEditing(null)}
              />
              <ActionFeedback error={update.error} />
            </section>
          ) : null}
          <section className="card" aria-labelledby={`${id}-list`}>
            <h2 id={`${id}-list`}>Webhooks</h2>
            <ActionFeedback error={remove.error} />
            <DataTable
              placeholder={
                hooks.isPending ? (
                  <LoadingState label="Loading webhooks…" />
                ) : hooks.isError ? (
                  <ErrorState error={hooks.error} onRetry={() => void hooks.refetch()} />
                ) : list.length === 0 ? (
                  <EmptyState title="No webhooks yet" />
                ) : null
              }
              caption={`Webhooks of ${app}`}
              columns={columns}
              rows={list}
              rowKey={(h) => h.id}
            />
          </section>
          {shown ? <DeliveryLog app={app} hook={shown} /> : null}
        </div>
      )}
    </div>
  );
}
