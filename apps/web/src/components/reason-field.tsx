import { Field } from './field';

/** The reason a dialog asks for before a change; it is stored with the audit entry. */
export function ReasonField({
  value,
  onChange,
  required,
  disabled,
  wrapped = true,
}: {
  value: string;
  onChange: (value: string) => void;
  required: boolean;
  disabled?: boolean;
  /** `false`: label, box and hint sit straight in the dialog's form, spaced like its other parts. */
  wrapped?: boolean;
}) {
  return (
    <Field
      label={`Reason${required ? '' : ' (optional)'}`}
      hint="Recorded in the audit log."
      className={wrapped ? 'field' : null}
    >
      {(control) => (
        <textarea
          {...control}
          className="field__input"
          rows={3}
          maxLength={1000}
          required={required}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          disabled={disabled}
        />
      )}
    </Field>
  );
}
