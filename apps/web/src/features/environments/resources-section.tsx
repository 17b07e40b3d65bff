import type { Environment } from '@qubot/api-contract';
import { useRuntimeInfo } from '../../hooks/api/runtime/queries';
import { enforcementNote, formatLimits } from './resources-utils';

/** Per-instance CPU and memory limits, and whether this runtime enforces them (docs/scaling.md). */
export function ResourcesSection({ env }: { env: Environment }) {
  const runtime = useRuntimeInfo();
  const note = enforcementNote(runtime.data);
  return (
    <section aria-labelledby="resources-title">
      <h2 id="resources-title">Resources</h2>
      <p>
        Limits per instance: <strong>{formatLimits(env.resources)}</strong>
      </p>
      {note ? (
        <p className={note.ok ? 'muted small' : 'feedback feedback--error'} role="status">
          {note.text}
        </p>
      ) : null}
      <p className="muted small">
        Changing them (PUT …/resources, <code>qubot</code> or the API) rolls the instances with a deployment
        of the live release.
      </p>
    </section>
  );
}
