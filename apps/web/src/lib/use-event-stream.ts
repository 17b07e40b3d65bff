/** Placeholder until the event client lands (see events.ts). */
export function useEventStream(): void {}
