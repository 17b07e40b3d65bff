// A promotion policy evaluation in a process of its own, so a test can SIGKILL it at the worst
// moment. Prints `at <point>` when it reaches the point (after-decide: decided, nothing written;
// before-commit: the deployment and its claim written, not committed), then waits for the kill.
import { createDatabase } from '@qubot/db';
import { buildApp } from '../apps/api/src/app.ts';

const [url, point, envName] = process.argv.slice(2);
if (!url || !point || !envName) throw new Error('usage: policy-child URL after-decide|before-commit ENV');
const forever = () => new Promise<void>(() => {});
const reached = async (name: string) => {
  if (name !== point) return;
  process.stdout.write(`at ${name}\n`);
  await forever();
};
const db = createDatabase(url, { max: 3 });
const app = await buildApp({
  db,
  orchestrator: { worker: false },
  backups: { schedule: false },
  policies: {
    run: false,
    hooks: { afterDecide: () => reached('after-decide'), beforeCommit: () => reached('before-commit') },
  },
});
await app.ready();
const env = await db.prisma.environment.findFirstOrThrow({ where: { name: envName }, select: { id: true } });
const result = await app.policies.evaluate(env.id);
process.stdout.write(`done ${JSON.stringify(result)}\n`);
await app.close();
await db.close();
