import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's default collectors export three gauges named `*_total` (active handles, requests
 * and resources summed over types), which Prometheus reserves for counters (`promtool check
 * metrics` warns). The per-type gauges beside them carry the same figures: sum them.
 */
const TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The process's own figures in `registry` under `prefix` (CPU, memory, event-loop delay, GC
 * pauses, handles): prom-client's default collectors without the three gauges named like counters.
 * The API (`qubot_`) and the traffic router (`qubot_router_`) both serve them.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of TOTAL_GAUGES) registry.removeSingleMetric(`${prefix}${name}`);
}
