import { useState } from 'react';
import { Field } from '../../components/field';
import './one-time-secret.css';

/** A password or token secret the server shows once, with a copy button. */
export function OneTimeSecret({ label, value, hint }: { label: string; value: string; hint: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <section className="secret-once" aria-label={label}>
      <Field label={label} hint={hint} className={null}>
        {(control) => (
          <div className="secret-once__row">
            <input
              {...control}
              className="field__input mono"
              readOnly
              value={value}
              onFocus={(e) => e.target.select()}
            />
            <button type="button" className="button button--secondary" onClick={() => void copy()}>
              Copy
            </button>
          </div>
        )}
      </Field>
      <p className="feedback" role="status" aria-live="polite">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'no'
            ? 'Copy failed: select and copy it.'
            : ''}
      </p>
    </section>
  );
}
