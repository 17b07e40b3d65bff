import type { StrategyName } from '@qubot/api-contract';
import { Options, SelectField } from '../../components/field';
import { STRATEGY_OPTIONS } from './promote-utils';

/** The strategy choice of every deploy form: the deploy and promote dialogs and a release's page. */
export function StrategyField({
  value,
  onChange,
  disabled,
}: {
  value: StrategyName;
  onChange: (value: StrategyName) => void;
  disabled?: boolean;
}) {
  return (
    <SelectField
      label="Strategy"
      value={value}
      onChange={(e) => onChange(e.target.value as StrategyName)}
      disabled={disabled}
    >
      <Options items={STRATEGY_OPTIONS} />
    </SelectField>
  );
}
