// Entry point of the per-instance supervisor process: `node --import tsx supervisor-main.ts <spec.json>`.
import { readFileSync } from 'node:fs';
import { runSupervisor, type SupervisorSpec } from './supervisor';

const specPath = process.argv[2];
if (!specPath) {
  console.error('usage: supervisor-main <spec.json>');
  process.exit(2);
}
runSupervisor(JSON.parse(readFileSync(specPath, 'utf8')) as SupervisorSpec);
