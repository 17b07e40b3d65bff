/**
 * Whether the live event stream is connected. While it is not, the live views (environments,
 * deployments) fall back to polling so the screen never silently goes stale; once the stream
 * is open they stop polling (DESIGN §5: the web app does not poll when it has events).
 */
export type LiveStatus = 'idle' | 'connecting' | 'open' | 'closed';

let status: LiveStatus = 'idle';
const listeners = new Set<() => void>();

export const liveStatus = {
  get: (): LiveStatus => status,
  set(next: LiveStatus) {
    if (next === status) return;
    status = next;
    for (const listener of listeners) listener();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export const FALLBACK_POLL_MS = 5000;

/** For `refetchInterval` on queries the event stream keeps fresh. */
export function livePollInterval(): number | false {
  return status === 'open' ? false : FALLBACK_POLL_MS;
}
