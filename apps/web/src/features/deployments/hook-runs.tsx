import type { Deployment, HookRun } from '@qubot/api-contract';
import { useState } from 'react';
import { Time } from '../../components/time';
import { useHookRunLog, useHookRuns } from '../../hooks/api/deployments/queries';
import { api } from '../../lib/api-client';
import { useFollowedLog } from '../../lib/use-followed-log';
import { usePermissions } from '../../lib/use-permissions';

const TONE: Record<HookRun['status'], string> = {
  running: 'active',
  succeeded: 'ok',
  failed: 'bad',
  timed_out: 'bad',
  interrupted: 'warn',
};

/** What the deployment's view says now: the hook runs are read again whenever it changes (live). */
const stampOf = (d: Deployment) => `${d.status}:${d.steps.map((s) => s.status).join(',')}`;

/** Lines kept on screen for one running hook. */
const MAX_LINES = 500;

function RunOutput({ d, run, isProtected }: { d: Deployment; run: HookRun; isProtected: boolean }) {
  const [open, setOpen] = useState(run.status !== 'succeeded');
  const perms = usePermissions();
  const mayRead = perms.can('logs.read', isProtected);
  const running = run.status === 'running';
  // A running hook's output is followed live (one NDJSON stream, new lines as the job writes
  // them); a finished one is read once more, when its status says it ended.
  const followed = useFollowedLog(
    open && mayRead && running
      ? api.url('GET /api/v1/deployments/:id/hooks/:runId/logs', {
          params: { id: d.id, runId: run.id },
          query: { lines: 200, follow: true },
        })
      : null,
    MAX_LINES,
  );
  const log = useHookRunLog(d.id, run.id, `${stampOf(d)}:${run.status}`, open && mayRead && !running);
  if (!mayRead) return <span className="muted small">{perms.hint('logs.read', isProtected)}</span>;
  const text = running
    ? followed.status === 'error'
      ? (followed.error ?? 'The output could not be read.')
      : followed.lines.join('\n')
    : (log.data?.lines.join('\n') ?? (log.isLoading ? 'loading…' : ''));
  return (
    <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>
        Output of {run.job}
        {running && followed.status === 'live' ? <span className="muted small"> (live)</span> : null}
      </summary>
      <pre className="log" role="log" aria-label={`Output of the ${run.phase}-deployment hook ${run.job}`}>
        {text}
      </pre>
    </details>
  );
}

/** The deployment's hook runs (docs/hooks.md): status, exit code, message and output. */
export function HookRuns({ d, isProtected }: { d: Deployment; isProtected: boolean }) {
  const runs = useHookRuns(d.id, stampOf(d));
  const items = runs.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="hooks-title">
      <h2 id="hooks-title">Hooks</h2>
      <ul className="plain-list">
        {items.map((run) => (
          <li key={run.id}>
            <p>
              <strong>
                {run.phase === 'pre' ? 'Pre' : 'Post'}-deployment hook {run.job}
              </strong>{' '}
              <span className={`badge badge--${TONE[run.status]}`}>{run.status.replace('_', ' ')}</span>
              {run.exitCode !== null ? <span className="muted small"> exit {run.exitCode}</span> : null}{' '}
              <span className="muted small">
                started <Time iso={run.startedAt} />, timeout {run.timeoutSeconds}s
              </span>
            </p>
            {run.message ? <p className="small">{run.message}</p> : null}
            <RunOutput d={d} run={run} isProtected={isProtected} />
          </li>
        ))}
      </ul>
    </section>
  );
}
