import { useEffect, useId, useState } from 'react';
import { isFreezeRefusal } from '../lib/permissions-utils';
import { usePermissions } from '../lib/use-permissions';

/**
 * After the server refused because of a freeze window, admins get an "Override freeze window"
 * choice (with the reason the form already asks for). Offered only then: overriding is an
 * exception, not a setting. `resetKey` changes when the form is reopened or retargeted.
 */
export function useFreezeOverride(error: unknown, resetKey?: unknown) {
  const perms = usePermissions();
  const [offered, setOffered] = useState(false);
  const [checked, setChecked] = useState(false);
  const frozen = isFreezeRefusal(error);
  useEffect(() => {
    if (frozen) setOffered(true);
  }, [frozen]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey is the trigger itself.
  useEffect(() => {
    setOffered(false);
    setChecked(false);
  }, [resetKey]);
  const available = offered && perms.can('freeze.override');
  return { available, checked: available && checked, setChecked };
}

export function FreezeOverrideField({
  state,
  disabled,
}: {
  state: ReturnType<typeof useFreezeOverride>;
  disabled?: boolean;
}) {
  const id = useId();
  if (!state.available) return null;
  return (
    <div className="field">
      <label className="checkbox" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={state.checked}
          onChange={(e) => state.setChecked(e.target.checked)}
          disabled={disabled}
          aria-describedby={`${id}-hint`}
        />{' '}
        Override freeze window
      </label>
      <p id={`${id}-hint`} className="field__hint">
        Admins only. A reason is required; the override is recorded in the audit log.
      </p>
    </div>
  );
}
