// The production build (`pnpm build` → dist/, docs/kubernetes.md): what the container image and
// the chart's pods run with plain node. The multi-replica test starts it for real; this one checks
// that it stands on its own — every package an emitted file imports is a production dependency of
// its package (the image installs no others), nothing imports tsx, and the runtime starts its
// router and supervisor processes from dist/ when it runs from dist/.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const PACKAGES = [
  'packages/core',
  'packages/api-contract',
  'packages/client',
  'packages/runtime',
  'packages/db',
  'apps/api',
  'apps/cli',
];

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

/** Package names imported by an emitted ES module (static imports and exports, dynamic imports). */
function importedPackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gms),
    ...source.matchAll(/^import\s*'([^']+)'/gm),
    ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] as string);
  return [
    ...new Set(
      specifiers
        .filter(
          (s) =>
            !s.startsWith('.') &&
            !s.startsWith('node:') &&
            !builtinModules.includes(s.split('/')[0] as string),
        )
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : (s.split('/')[0] as string))),
    ),
  ];
}

beforeAll(() => {
  // Rebuilt only when a package's sources changed (as `npm test` does).
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-dist.mjs')], { cwd: ROOT, stdio: 'inherit' });
}, 400_000);

describe('[BUILD] the production build in dist/', () => {
  it('every package an emitted file imports is a production dependency of its package; none imports tsx', () => {
    for (const pkg of PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(ROOT, pkg, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
      };
      const allowed = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {})]);
      const files = jsFiles(join(ROOT, pkg, 'dist'));
      expect(files.length, pkg).toBeGreaterThan(0);
      for (const file of files) {
        const used = importedPackages(readFileSync(file, 'utf8'));
        expect(
          used.filter((p) => !allowed.has(p)),
          file,
        ).toEqual([]);
        expect(used, file).not.toContain('tsx');
      }
    }
  });

  it('the import scanner sees what the check relies on (not vacuous)', () => {
    const sample = [
      "import pg from 'pg';",
      "import { a,\n  b } from '@qubot/core';",
      "export { c } from '@scope/pkg/sub';",
      "const x = await import('undici');",
      "import { y } from './local.js';",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(importedPackages(sample).sort()).toEqual(['@qubot/core', '@scope/pkg', 'pg', 'undici']);
  });

  it('from dist/, the runtime starts its router and supervisors from dist/ with plain node', async () => {
    const proc = (await import(join(ROOT, 'packages/runtime/dist/proc.js'))) as {
      RUNS_FROM_DIST: boolean;
      entryArgs(name: string): string[];
    };
    expect(proc.RUNS_FROM_DIST).toBe(true);
    expect(proc.entryArgs('router/router-main')).toEqual([
      '--conditions=qubot-dist',
      join(ROOT, 'packages/runtime/dist/router/router-main.js'),
    ]);
    expect(proc.entryArgs('supervisor-main')).toEqual([
      '--conditions=qubot-dist',
      join(ROOT, 'packages/runtime/dist/supervisor-main.js'),
    ]);
    // From the TypeScript sources (development, tests): through the tsx loader, as before.
    const src = await import('@qubot/runtime/proc');
    expect(src.entryArgs('supervisor-main')).toEqual([
      '--import',
      expect.stringMatching(/tsx/),
      join(ROOT, 'packages/runtime/src/supervisor-main.ts'),
    ]);
  });
});
