import type { ConfigVersion, Environment } from '@qubot/api-contract';
import { type FormEvent, useId, useState } from 'react';
import { EmptyState, ErrorState, LoadingState } from '../../components/states';
import { Time } from '../../components/time';
import { useCurrentUser } from '../../hooks/api/auth/queries';
import { useSaveConfig } from '../../hooks/api/config/mutations';
import { useConfig, useConfigDiff, useConfigVersions } from '../../hooks/api/config/queries';
import { errorMessage } from '../../lib/api-client';
import { ConfigDiffTable } from './config-diff-table';
import {
  canWriteConfig,
  type DraftEntry,
  draftFrom,
  draftToBody,
  previousVersion,
  SECRET_MASK,
  validateDraft,
} from './config-utils';
import './config-editor.css';

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

function CurrentConfig({
  config,
  env,
  mayWrite,
}: {
  config: ConfigVersion;
  env: Environment;
  mayWrite: boolean;
}) {
  if (config.version === 0)
    return (
      <EmptyState title={`No configuration set for ${env.name}`}>
        {mayWrite ? null : <p>A deployer (a release-manager on protected environments) can set it.</p>}
      </EmptyState>
    );
  return (
    <>
      <p className="muted small">
        Version {config.version}
        {config.createdBy ? ` by ${config.createdBy}` : ''}
        {config.createdAt ? (
          <>
            {' '}
            · <Time iso={config.createdAt} />
          </>
        ) : null}
        {config.comment ? ` · “${config.comment}”` : ''}
      </p>
      {config.entries.length === 0 ? (
        <EmptyState title="This version has no entries" />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Configuration of {env.name}</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {config.entries.map((e) => (
                <tr key={e.key}>
                  <th scope="row" className="mono">
                    {e.key}
                  </th>
                  <td className="mono break">
                    {e.secret ? (
                      <>
                        <span aria-hidden="true">{SECRET_MASK}</span>{' '}
                        <span className="badge badge--muted">secret</span>
                        <span className="visually-hidden"> value hidden</span>
                      </>
                    ) : (
                      e.value
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function ConfigEditor({
  app,
  env,
  config,
  onDone,
}: {
  app: string;
  env: string;
  config: ConfigVersion;
  onDone: () => void;
}) {
  const id = useId();
  const save = useSaveConfig(app, env);
  const [rows, setRows] = useState<DraftEntry[]>(() => draftFrom(config));
  const [comment, setComment] = useState('');
  const [next, setNext] = useState(rows.length);
  const [submitted, setSubmitted] = useState(false);
  const errors = validateDraft(rows);
  const invalid = Object.keys(errors).length > 0;

  const update = (rowId: string, patch: Partial<DraftEntry>) =>
    setRows((all) => all.map((r) => (r.id === rowId ? { ...r, ...patch } : r)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (invalid || save.isPending) return;
    save.mutate(draftToBody(rows, comment, config.version), { onSuccess: onDone });
  };

  return (
    <form className="config-editor" aria-label={`Edit configuration of ${env}`} onSubmit={submit} noValidate>
      <p className="field__hint">
        Secrets are write-only: leave a stored secret blank to keep it. Saving creates version{' '}
        {config.version + 1}.
      </p>
      {rows.map((r, i) => {
        const err = submitted ? errors[r.id] : undefined;
        const keyId = `${id}-${r.id}-key`;
        const valueId = `${id}-${r.id}-value`;
        return (
          <fieldset key={r.id} className="config-editor__row">
            <legend className="visually-hidden">Entry {i + 1}</legend>
            <div className="field">
              <label className="field__label" htmlFor={keyId}>
                Key
              </label>
              <input
                id={keyId}
                className="field__input mono"
                value={r.key}
                onChange={(e) => update(r.id, { key: e.target.value.toUpperCase() })}
                aria-invalid={err?.key ? true : undefined}
                aria-describedby={err?.key ? `${keyId}-error` : undefined}
                autoComplete="off"
                spellCheck={false}
              />
              {err?.key ? (
                <p id={`${keyId}-error`} className="feedback feedback--error">
                  {err.key}
                </p>
              ) : null}
            </div>
            <div className="field">
              <label className="field__label" htmlFor={valueId}>
                Value
              </label>
              <input
                id={valueId}
                className="field__input mono"
                type={r.secret ? 'password' : 'text'}
                value={r.value}
                placeholder={r.secret && r.keep ? 'unchanged (stored secret)' : ''}
                onChange={(e) => update(r.id, { value: e.target.value })}
                aria-invalid={err?.value ? true : undefined}
                aria-describedby={err?.value ? `${valueId}-error` : undefined}
                autoComplete="off"
                spellCheck={false}
              />
              {err?.value ? (
                <p id={`${valueId}-error`} className="feedback feedback--error">
                  {err.value}
                </p>
              ) : null}
            </div>
            <label className="checkbox">
              <input
                type="checkbox"
                checked={r.secret}
                onChange={(e) => update(r.id, { secret: e.target.checked, keep: e.target.checked && r.keep })}
              />{' '}
              Secret
            </label>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => setRows((all) => all.filter((x) => x.id !== r.id))}
              aria-label={`Remove ${r.key || `entry ${i + 1}`}`}
            >
              Remove
            </button>
          </fieldset>
        );
      })}
      <div className="button-row">
        <button
          type="button"
          className="button button--secondary"
          onClick={() => {
            setRows((all) => [...all, { id: `n${next}`, key: '', value: '', secret: false, keep: false }]);
            setNext(next + 1);
          }}
        >
          Add entry
        </button>
      </div>
      <div className="field">
        <label className="field__label" htmlFor={`${id}-comment`}>
          Comment (optional)
        </label>
        <input
          id={`${id}-comment`}
          className="field__input"
          maxLength={1000}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
        <p className="field__hint">Recorded with the version and in the audit log.</p>
      </div>
      {submitted && invalid ? (
        <p className="feedback feedback--error" role="alert">
          Fix the highlighted entries before saving.
        </p>
      ) : null}
      {save.error ? (
        <p className="feedback feedback--error" role="alert">
          {errorMessage(save.error)}
        </p>
      ) : null}
      <p className="feedback" role="status" aria-live="polite">
        {save.isPending ? 'Saving…' : ''}
      </p>
      <div className="button-row">
        <button type="submit" className="button" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save new version'}
        </button>
        <button type="button" className="button button--secondary" onClick={onDone} disabled={save.isPending}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfigHistory({ app, env }: { app: string; env: string }) {
  const versions = useConfigVersions(app, env);
  const [range, setRange] = useState<{ from: number; to: number } | null>(null);
  const diff = useConfigDiff(app, env, range);
  const items = versions.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="config-history">
      <h3>Version history</h3>
      {versions.isPending ? (
        <LoadingState label="Loading versions…" />
      ) : versions.isError ? (
        <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted small">No versions yet.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Configuration versions of {env}</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">Comment</th>
                  <th scope="col" className="num">
                    Keys
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((v) => {
                  const from = previousVersion(v.version);
                  const selected = range?.to === v.version && range.from === from;
                  return (
                    <tr key={v.version}>
                      <th scope="row" className="num">
                        v{v.version}
                      </th>
                      <td>{v.createdBy ?? '—'}</td>
                      <td>{v.createdAt ? <Time iso={v.createdAt} /> : '—'}</td>
                      <td>{v.comment ?? <span className="muted">—</span>}</td>
                      <td className="num">{v.entries.length}</td>
                      <td>
                        <button
                          type="button"
                          className="button button--ghost button--small"
                          aria-pressed={selected}
                          onClick={() => setRange(selected ? null : { from, to: v.version })}
                        >
                          {selected ? 'Hide changes' : `Changes from v${from}`}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {versions.hasNextPage ? (
            <button
              type="button"
              className="button button--secondary"
              onClick={() => void versions.fetchNextPage()}
              disabled={versions.isFetchingNextPage}
            >
              {versions.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : null}
        </>
      )}
      {range ? (
        <div className="config-history__diff" aria-live="polite">
          <h4>
            Changes from v{range.from} to v{range.to}
          </h4>
          {diff.isPending ? (
            <LoadingState label="Comparing…" />
          ) : diff.isError ? (
            <ErrorState error={diff.error} onRetry={() => void diff.refetch()} />
          ) : (
            <ConfigDiffTable diff={diff.data} caption={`Changes from v${range.from} to v${range.to}`} />
          )}
        </div>
      ) : null}
    </div>
  );
}
