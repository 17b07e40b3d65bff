import type { TrafficEntry } from '@qubot/api-contract';
import { trafficSegments } from '../features/environments/environment-utils';
import './traffic-bar.css';

/** The coloured bar is decoration; the legend below carries the same facts as text. */
export function TrafficBar({
  traffic,
  label = 'Traffic split',
}: {
  traffic: readonly TrafficEntry[];
  label?: string;
}) {
  const segments = trafficSegments(traffic);
  return (
    <div className="traffic">
      <div className="traffic__bar" aria-hidden="true">
        {segments.map((s) => (
          <span
            key={s.pool}
            className={`traffic__segment traffic__segment--${s.pool === 'green' ? 'green' : 'blue'}`}
            style={{ width: `${s.percent}%` }}
          />
        ))}
      </div>
      {segments.length === 0 ? (
        <p className="traffic__legend muted">No traffic is being served</p>
      ) : (
        <ul className="traffic__legend" aria-label={label}>
          {segments.map((s) => (
            <li key={s.pool}>
              <span
                className={`traffic__key traffic__key--${s.pool === 'green' ? 'green' : 'blue'}`}
                aria-hidden="true"
              />
              {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
