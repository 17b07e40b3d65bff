// Entry point of the per-instance supervisor process:
// `node --import tsx supervisor-main.ts <spec.json> [--adopt <pid>]` (built: `node --conditions=qubot-dist dist/supervisor-main.js …`).
import { readFileSync } from 'node:fs';
import { runSupervisor, type SupervisorSpec } from './supervisor.ts';

const specPath = process.argv[2];
if (!specPath) {
  console.error('usage: supervisor-main <spec.json>');
  process.exit(2);
}
const adoptPid = process.argv[3] === '--adopt' ? Number(process.argv[4]) : undefined;
runSupervisor(
  JSON.parse(readFileSync(specPath, 'utf8')) as SupervisorSpec,
  adoptPid && Number.isInteger(adoptPid) && adoptPid > 0 ? { adoptPid } : {},
);
