import type { Deployment, Environment, Release, Step, TrafficEntry } from '@qubot/api-contract';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
export const COLORS: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  blue: wrap(34, 39),
};
const id = (s: string) => s;
export const PLAIN: Style = { bold: id, dim: id, red: id, green: id, yellow: id, blue: id };

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the escapes we add ourselves
const ANSI = /\u001b\[[0-9;]*m/g;
export const visibleLength = (s: string) => s.replace(ANSI, '').length;

/** Left-aligned columns separated by two spaces; the header row first. */
export function table(headers: string[], rows: string[][], style: Style = PLAIN): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join('\n');
}

export function statusColor(status: string, style: Style): string {
  switch (status) {
    case 'succeeded':
    case 'healthy':
      return style.green(status);
    case 'failed':
    case 'rolled_back':
    case 'aborted':
    case 'unhealthy':
      return style.red(status);
    case 'paused':
    case 'pending':
      return style.yellow(status);
    case 'running':
      return style.blue(status);
    default:
      return status;
  }
}

/** `blue 1.2.0 90% · green 1.3.0 10%`, only pools that carry or are set to carry traffic. */
export function formatTraffic(traffic: TrafficEntry[]): string {
  if (traffic.length === 0) return '-';
  return traffic.map((t) => `${t.pool}${t.version ? ` ${t.version}` : ''} ${round(t.weight)}%`).join(' · ');
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function formatHealth(env: Pick<Environment, 'instances'>): string {
  const total = env.instances.length;
  if (total === 0) return '-';
  const healthy = env.instances.filter((i) => i.healthy).length;
  return `${healthy}/${total} healthy`;
}

export function formatActive(env: Pick<Environment, 'activeDeployment'>): string {
  const d = env.activeDeployment;
  if (!d) return '-';
  const waiting = d.waitingFor ? ` (waiting for ${d.waitingFor})` : '';
  return `${d.strategy} ${d.version} ${d.status}${waiting}`;
}

export function environmentsTable(envs: Environment[], style: Style = PLAIN): string {
  return table(
    ['ENVIRONMENT', 'LIVE', 'COLOUR', 'TRAFFIC', 'HEALTH', 'ACTIVE DEPLOYMENT'],
    envs.map((e) => [
      e.protected ? `${e.name} ${style.dim('(protected)')}` : e.name,
      e.live?.version ?? '-',
      e.activeColor ?? '-',
      formatTraffic(e.traffic),
      formatHealth(e),
      e.activeDeployment ? formatActive(e) : '-',
    ]),
    style,
  );
}

export function releasesTable(releases: Release[], style: Style = PLAIN): string {
  return table(
    ['VERSION', 'ARTIFACT', 'COMMIT', 'CREATED', 'BY', 'LIVE IN'],
    releases.map((r) => [
      r.version,
      r.artifact,
      r.commit ? r.commit.slice(0, 12) : '-',
      shortTime(r.createdAt),
      r.createdBy,
      r.deployedTo
        .filter((d) => d.live)
        .map((d) => d.environment)
        .join(', ') || '-',
    ]),
    style,
  );
}

export function deploymentsTable(deployments: Deployment[], style: Style = PLAIN): string {
  return table(
    ['ID', 'ENVIRONMENT', 'KIND', 'STRATEGY', 'VERSION', 'STATUS', 'BY', 'CREATED'],
    deployments.map((d) => [
      d.id,
      d.environment,
      d.kind,
      d.strategy,
      d.fromVersion ? `${d.fromVersion} → ${d.release.version}` : d.release.version,
      statusColor(d.status, style) + (d.waitingFor ? ` (${d.waitingFor})` : ''),
      d.actor,
      shortTime(d.createdAt),
    ]),
    style,
  );
}

export function stepLine(step: Step, style: Style = PLAIN): string {
  const msg = step.message ? ` — ${step.message}` : '';
  return `${String(step.position + 1).padStart(2)}. ${step.name} ${statusColor(step.status, style)}${msg}`;
}

export function deploymentDetail(d: Deployment, style: Style = PLAIN): string {
  const lines = [
    `${style.bold('Deployment')} ${d.id}`,
    `  ${d.application}/${d.environment}: ${d.kind} ${d.fromVersion ? `${d.fromVersion} → ` : ''}${d.release.version} (${d.strategy})`,
    `  status: ${statusColor(d.status, style)}${d.waitingFor ? ` — waiting for ${d.waitingFor}` : ''}`,
    `  by ${d.actor}${d.reason ? ` — "${d.reason}"` : ''}, created ${shortTime(d.createdAt)}`,
  ];
  if (d.error) lines.push(`  error: ${style.red(d.error)}`);
  if (d.steps.length > 0) {
    lines.push('  steps:');
    for (const s of d.steps) lines.push(`  ${stepLine(s, style)}`);
  }
  return lines.join('\n');
}

export function environmentDetail(e: Environment, style: Style = PLAIN): string {
  const lines = [
    `${style.bold(e.name)}${e.protected ? style.dim(' (protected)') : ''}`,
    `  live: ${e.live?.version ?? '-'}${e.previous ? `  previous: ${e.previous.version}` : ''}`,
    `  address: ${e.address ?? '-'}`,
    `  colour: ${e.activeColor ?? '-'}  traffic: ${formatTraffic(e.traffic)}`,
    `  instances: ${formatHealth(e)}`,
  ];
  for (const i of e.instances)
    lines.push(
      `    ${i.pool} ${i.version} :${i.port} ${i.status}${i.healthy ? '' : style.red(' (unhealthy)')}`,
    );
  lines.push(
    `  active deployment: ${formatActive(e)}${e.activeDeployment ? ` [${e.activeDeployment.id}]` : ''}`,
  );
  return lines.join('\n');
}

/** ISO timestamp → `2024-05-01 12:34` (UTC), short enough for a table column. */
export function shortTime(iso: string | null): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').slice(0, 16);
}
