import type { Environment } from '@qubot/api-contract';
import { runtimeFacts } from './runtime-target-utils';

/** Where the environment's instances run; an admin changes it with PUT …/runtime (docs/kubernetes.md). */
export function RuntimeTargetSection({ env }: { env: Environment }) {
  return (
    <section className="card" aria-labelledby="runtime-target-title">
      <h2 id="runtime-target-title">Runtime</h2>
      <dl className="facts">
        {runtimeFacts(env.runtime).map((f) => (
          <div key={f.label}>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
