// Test fixture: a short-lived "control plane" that starts one instance and exits.
// Usage: start-and-exit.ts <dataDir> <workspaceDir>; prints the instance record as JSON.
import { LocalDriver } from '../local-driver.ts';

const [dataDir, workspaceDir] = process.argv.slice(2) as [string, string];
const driver = new LocalDriver({ dataDir, workspaceDir });
const record = await driver.start({
  instanceId: 'orphan-1',
  environment: 'test/outlive',
  version: '1.0.0',
  artifact: 'qubot-one/healthy',
  pool: 'blue',
  launcher: { command: 'node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port}' },
});
process.stdout.write(`${JSON.stringify(record)}\n`);
