// Runs Prisma's CLI with no engine download (see docs/development.md):
// the placeholder engine paths stop the CLI from fetching native binaries,
// and prisma.config.ts selects the WebAssembly schema engine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
// Per user: a directory another user created in /tmp would not be writable.
const placeholderDir = join(tmpdir(), `qubot-prisma-${process.getuid?.() ?? 'user'}`);
mkdirSync(placeholderDir, { recursive: true });
const placeholder = join(placeholderDir, 'no-engine');
writeFileSync(placeholder, '');

const args = process.argv.slice(2);
if (args[0] === 'migrate' && args[1] === 'diff' && args.length === 2) {
  // `pnpm db:diff` alone: print the SQL that would bring the migrations up to the schema.
  args.push(
    '--from-migrations',
    'prisma/migrations',
    '--to-schema-datamodel',
    'prisma/schema.prisma',
    '--script',
  );
}
const cli = createRequire(join(here, '..', 'package.json')).resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, ...args, '--config', join(here, '..', 'prisma.config.ts')], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    PRISMA_QUERY_ENGINE_LIBRARY: placeholder,
    PRISMA_SCHEMA_ENGINE_BINARY: placeholder,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);
