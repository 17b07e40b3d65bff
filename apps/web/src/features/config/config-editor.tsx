import type { ConfigVersion } from '@qubot/api-contract';
import { type FormEvent, useState } from 'react';
import { TextField } from '../../components/field';
import { useSaveConfig } from '../../hooks/api/config/mutations';
import { errorMessage } from '../../lib/api-client';
import { type DraftEntry, draftFrom, draftToBody, validateDraft } from './config-utils';
import './config-editor.css';

/** Edits the entries as a draft; saving writes a new version (stored secrets left blank are kept). */
export function ConfigEditor({
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
        return (
          <fieldset key={r.id} className="config-editor__row">
            <legend className="visually-hidden">Entry {i + 1}</legend>
            <TextField
              label="Key"
              error={err?.key}
              className="field__input mono"
              value={r.key}
              onChange={(e) => update(r.id, { key: e.target.value.toUpperCase() })}
              autoComplete="off"
              spellCheck={false}
            />
            <TextField
              label="Value"
              error={err?.value}
              className="field__input mono"
              type={r.secret ? 'password' : 'text'}
              value={r.value}
              placeholder={r.secret && r.keep ? 'unchanged (stored secret)' : ''}
              onChange={(e) => update(r.id, { value: e.target.value })}
              autoComplete="off"
              spellCheck={false}
            />
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
      <TextField
        label="Comment (optional)"
        hint="Recorded with the version and in the audit log."
        maxLength={1000}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
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
