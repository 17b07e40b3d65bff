import { type ComponentProps, type ReactNode, useId } from 'react';
import './field.css';

/** What a field hands its control: the id its label points at, and the wiring to its hint and error. */
export interface FieldControlProps {
  id: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/**
 * A labelled form control with an optional hint and an error that screen readers read with the
 * control (aria-describedby), so the message is announced with the field it is about.
 *
 * The control itself is the caller's (`input`, `select`, `textarea`): it spreads the props it is
 * given, `{(control) => <input {...control} className="field__input" … />}`.
 */
export function Field({
  label,
  hint,
  error,
  invalid = Boolean(error),
  className = 'field',
  children,
}: {
  label: ReactNode;
  hint?: ReactNode;
  /** Shown under the control while set; also marks the control invalid. */
  error?: ReactNode;
  /** Invalid without a message of its own: the hint turns red instead. */
  invalid?: boolean;
  /** `null` renders label, control, hint and error without the wrapping element (inside a flex form). */
  className?: string | null;
  children: (control: FieldControlProps) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ');
  const control: FieldControlProps = {
    id,
    ...(invalid ? { 'aria-invalid': true } : {}),
    ...(describedBy ? { 'aria-describedby': describedBy } : {}),
  };
  const parts = (
    <>
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {children(control)}
      {hint ? (
        <p id={hintId} className={invalid && !error ? 'field__hint field__hint--invalid' : 'field__hint'}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="feedback feedback--error">
          {error}
        </p>
      ) : null}
    </>
  );
  return className === null ? parts : <div className={className}>{parts}</div>;
}

/** The options of a select from `{ value, label }` pairs. */
export function Options({ items }: { items: readonly { value: string; label: string }[] }) {
  return items.map((o) => (
    <option key={o.value} value={o.value}>
      {o.label}
    </option>
  ));
}

/** A checkbox with its label to the right, lined up with the fields beside it. */
export function CheckField({
  label,
  ...input
}: { label: ReactNode } & Omit<ComponentProps<'input'>, 'type'>) {
  return (
    <label className="field field--check">
      <input type="checkbox" {...input} /> {label}
    </label>
  );
}

type FieldProps = { label: ReactNode; hint?: ReactNode; error?: ReactNode; invalid?: boolean };

/** A labelled `<input>`; its other props go to the input (`className` too: `field__input` by default). */
export function TextField({
  label,
  hint,
  error,
  invalid,
  className = 'field__input',
  ...input
}: FieldProps & ComponentProps<'input'>) {
  return (
    <Field label={label} hint={hint} error={error} invalid={invalid}>
      {(control) => <input {...control} className={className} {...input} />}
    </Field>
  );
}

/** A labelled `<select>`; its options are the children. */
export function SelectField({
  label,
  hint,
  error,
  invalid,
  children,
  ...select
}: FieldProps & ComponentProps<'select'>) {
  return (
    <Field label={label} hint={hint} error={error} invalid={invalid}>
      {(control) => (
        <select {...control} className="field__input" {...select}>
          {children}
        </select>
      )}
    </Field>
  );
}
