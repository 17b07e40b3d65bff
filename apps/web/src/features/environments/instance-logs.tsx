import type { Environment, InstanceView } from '@qubot/api-contract';
import { useEffect, useRef, useState } from 'react';
import { type Column, DataTable } from '../../components/data-table';
import { EmptyState } from '../../components/states';
import { ColorChip, StatusBadge } from '../../components/status-badge';
import { useCurrentUser } from '../../hooks/api/auth/queries';
import { api } from '../../lib/api-client';
import { useFollowedLog } from '../../lib/use-followed-log';
import { canReadLogs, formatUptime, sortInstances } from './instance-logs-utils';
import { formatLimits, formatOom } from './resources-utils';

/** Lines kept on screen for one instance. */
const MAX_LINES = 500;

/** A clock for uptimes (local re-render; nothing is fetched). */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** `…/instances/:id/logs?follow=true`: the last lines, then new ones as the instance writes them. */
function useInstanceLog(app: string, env: string, instanceId: string) {
  const url = api.url('GET /api/v1/apps/:app/environments/:env/instances/:id/logs', {
    params: { app, env, id: instanceId },
    query: { lines: 200, follow: true },
  });
  return useFollowedLog(url, MAX_LINES);
}

function LogViewer({ app, env, instance }: { app: string; env: string; instance: InstanceView }) {
  const log = useInstanceLog(app, env, instance.id);
  const box = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when lines arrive
  useEffect(() => {
    const el = box.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [log.lines, follow]);

  const statusText =
    log.status === 'connecting'
      ? 'Connecting…'
      : log.status === 'live'
        ? 'Live: new lines appear as the instance writes them.'
        : log.status === 'ended'
          ? 'The stream ended (server restart?). Choose the instance again to reconnect.'
          : (log.error ?? 'The log could not be read.');

  return (
    <div className="card">
      <div className="section-header">
        <h3 id="instance-log-title">
          Log of <span className="mono">{instance.id}</span>
        </h3>
        <label className="small">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Scroll to
          the newest line
        </label>
      </div>
      <p className={log.status === 'error' ? 'feedback feedback--error' : 'muted small'} role="status">
        {statusText}
      </p>
      <pre
        ref={box}
        className="changelog"
        role="log"
        aria-labelledby="instance-log-title"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        tabIndex={0}
        style={{ maxHeight: '24rem', overflowY: 'auto' }}
      >
        {log.lines.length ? log.lines.join('\n') : log.status === 'live' ? '(no output yet)' : ''}
      </pre>
    </div>
  );
}

/** The environment page's instances: pool, version, status, health, uptime, restarts, and their logs. */
const INSTANCE_COLUMNS = (now: number): Column<InstanceView>[] => [
  { key: 'id', header: 'Instance', rowHeader: true, cellClassName: 'mono', cell: (i) => i.id },
  { key: 'pool', header: 'Pool', cell: (i) => <ColorChip color={i.pool} /> },
  { key: 'version', header: 'Version', cell: (i) => i.version },
  {
    key: 'status',
    header: 'Status',
    cell: (i) => (
      <>
        <StatusBadge status={i.status} />
        {formatOom(i.oom) ? <div className="fail small">{formatOom(i.oom)}</div> : null}
      </>
    ),
  },
  {
    key: 'health',
    header: 'Health',
    cell: (i) =>
      i.healthy ? <span className="pass">healthy</span> : <span className="fail">unhealthy</span>,
  },
  { key: 'uptime', header: 'Uptime', cell: (i) => formatUptime(i.startedAt, now, i.status) },
  {
    key: 'restarts',
    header: 'Restarts',
    className: 'num',
    cellClassName: (i) => (i.restarts > 0 ? 'fail' : ''),
    cell: (i) => i.restarts,
  },
  { key: 'limits', header: 'Limits', cell: (i) => formatLimits(i.limits) },
  { key: 'address', header: 'Address', cellClassName: 'mono', cell: (i) => `${i.host ?? ''}:${i.port}` },
];

export function InstancesSection({ app, env }: { app: string; env: Environment }) {
  const me = useCurrentUser();
  const mayReadLogs = canReadLogs(me.data?.role, env.protected);
  const now = useNow(1000);
  const [selected, setSelected] = useState<string | null>(null);
  const instances = sortInstances(env.instances);
  const chosen = instances.find((i) => i.id === selected) ?? null;
  const logColumn: Column<InstanceView> = {
    key: 'logs',
    header: 'Logs',
    cell: (i) => (
      <button
        type="button"
        className="button button--secondary"
        aria-pressed={i.id === selected}
        onClick={() => setSelected(i.id === selected ? null : i.id)}
      >
        {/* The name starts with the visible words (WCAG 2.5.3 label in name). */}
        {i.id === selected ? 'Hide log' : 'Show log'}
        <span className="visually-hidden"> of {i.id}</span>
      </button>
    ),
  };

  return (
    <section aria-labelledby="instances-title">
      <h2 id="instances-title">Instances</h2>
      {instances.length === 0 ? (
        <EmptyState title="No instances running" />
      ) : (
        <DataTable
          caption={`Instances in ${env.name}`}
          columns={mayReadLogs ? [...INSTANCE_COLUMNS(now), logColumn] : INSTANCE_COLUMNS(now)}
          rows={instances}
          rowKey={(i) => i.id}
          rowProps={(i) => ({ 'aria-selected': i.id === selected ? true : undefined })}
        />
      )}
      {chosen ? <LogViewer key={chosen.id} app={app} env={env.name} instance={chosen} /> : null}
      {!mayReadLogs && instances.length > 0 ? (
        <p className="muted small">
          Instance logs may hold sensitive output: they are shown to deployers and up
          {env.protected ? ' (release managers on a protected environment)' : ''}.
        </p>
      ) : null}
    </section>
  );
}
