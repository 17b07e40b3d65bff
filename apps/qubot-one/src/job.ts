// Qubot-One's one-off jobs, run by Qubot Deploy's deployment hooks (docs/hooks.md) through the
// application's job launcher: `job.ts <job> --version V --environment E`. The environment's
// configuration arrives as environment variables, like the service's own.
//   migrate  prints the migration steps it applies (HOOK_STEP_MS between them) and exits 0
//   smoke    GETs $QUBOT_ADDRESS/ and checks the version it answers with; exit 1 if it fails
//   fail     exits 1 after printing why (for demos and tests)
//   wait     waits (a line a second) until the file named by $HOOK_WAIT_FILE exists (forever
//            without one), then exits 0 (tests)
import { existsSync } from 'node:fs';

const [job, ...rest] = process.argv.slice(2);
const arg = (name: string) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};
const version = arg('version') ?? process.env.QUBOT_VERSION ?? 'unknown';
const environment = arg('environment') ?? process.env.QUBOT_ENVIRONMENT ?? 'unknown';
const say = (msg: string) => console.log(`[${job}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  switch (job) {
    case 'migrate': {
      const stepMs = Number(process.env.HOOK_STEP_MS ?? 100);
      say(`migrating the ${environment} database for ${version}`);
      for (const step of ['001_create_events', '002_add_index', '003_backfill']) {
        await sleep(stepMs);
        say(`applied ${step}`);
      }
      say('done');
      return 0;
    }
    case 'smoke': {
      const address = process.env.QUBOT_ADDRESS;
      if (!address) {
        say('QUBOT_ADDRESS is not set');
        return 1;
      }
      const res = await fetch(`${address}/`, { signal: AbortSignal.timeout(5_000) });
      const served = res.headers.get('x-qubot-version');
      await res.arrayBuffer();
      say(`GET ${address}/ → ${res.status}, version ${served}`);
      if (!res.ok || served !== version) return 1;
      return 0;
    }
    case 'fail':
      say(process.env.HOOK_FAIL_MESSAGE ?? 'migration 002_add_index failed: relation already exists');
      return 1;
    case 'wait': {
      const file = process.env.HOOK_WAIT_FILE;
      say(`waiting for ${file}`);
      // A line a second while it waits: a live view of the output has something to show.
      for (let ms = 0; !file || !existsSync(file); ms += 50) {
        if (ms > 0 && ms % 1000 === 0) say(`still waiting (${ms / 1000} s)`);
        await sleep(50);
      }
      say('released');
      return 0;
    }
    default:
      say(`unknown job ${job}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[${job}] ${(err as Error).message}`);
    process.exit(1);
  },
);
