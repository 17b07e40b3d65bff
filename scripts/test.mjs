// `npm test`: install what is missing (dependencies, and Debian's Chromium, Prometheus and
// HAProxy when absent and we are root), build the web app once, then run every suite —
// lint, typecheck, unit + API integration tests (Vitest), browser tests
// (Playwright) — and print one line "N passed, N failed" summing them all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import {
  checkNode,
  ensureDistBuilt,
  ensureInstalled,
  ensureWebBuilt,
  fail,
  log,
  pnpmCommand,
  ROOT,
  run,
} from './lib.mjs';

const CHROMIUM = process.env.QUBOT_CHROMIUM ?? '/usr/bin/chromium';
// The monitoring tests run a real Prometheus and promtool (docs/monitoring.md).
const PROMETHEUS = process.env.QUBOT_PROMETHEUS ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.QUBOT_PROMTOOL ?? '/usr/bin/promtool';
// The HAProxy traffic provider's tests drive a real haproxy (packages/runtime/src/haproxy).
const HAPROXY = '/usr/sbin/haproxy';

/**
 * A Debian package some tests run for real: present, or installed with apt-get when we are root
 * (otherwise a clear message saying how to install it).
 */
function ensureDebianPackage({ present, pkg, what, missing }) {
  if (present()) return;
  if (userInfo().uid !== 0) fail(`${missing} Install it (sudo apt-get install -y ${pkg}).`);
  log(`installing Debian's ${pkg} for ${what}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status !== 0) fail('apt-get update failed');
  if (
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env })
      .status !== 0
  )
    fail(`apt-get install ${pkg} failed`);
}

const ensureChromium = () =>
  ensureDebianPackage({
    present: () => existsSync(CHROMIUM),
    pkg: 'chromium',
    what: 'the browser tests',
    missing: `Chromium is missing at ${CHROMIUM} (or set QUBOT_CHROMIUM).`,
  });

const ensurePrometheus = () =>
  ensureDebianPackage({
    present: () => existsSync(PROMETHEUS) && existsSync(PROMTOOL),
    pkg: 'prometheus',
    what: 'the monitoring tests',
    missing: `Prometheus is missing at ${PROMETHEUS} / ${PROMTOOL} (or set QUBOT_PROMETHEUS and QUBOT_PROMTOOL).`,
  });

// The multi-replica tests run the control plane on an external PostgreSQL: Debian's server
// (test/debian-postgres.ts), not the embedded one.
const PG_BASE = '/usr/lib/postgresql';
const ensurePostgresServer = () =>
  ensureDebianPackage({
    present: () =>
      existsSync(PG_BASE) &&
      readdirSync(PG_BASE).some((v) => existsSync(join(PG_BASE, v, 'bin', 'postgres'))),
    pkg: 'postgresql',
    what: 'the multi-replica tests',
    missing: `PostgreSQL's server is missing under ${PG_BASE}.`,
  });

function ensureHaproxy() {
  if (existsSync(HAPROXY)) return;
  if (userInfo().uid !== 0) {
    log(`HAProxy is missing at ${HAPROXY}: its tests are skipped (sudo apt-get install -y haproxy).`);
    return;
  }
  log('installing Debian HAProxy for the traffic provider tests…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status !== 0) fail('apt-get update failed');
  // Only the binary is used (run in the foreground per environment); policy-rc.d may refuse
  // the package's service start in a container, which does not matter here.
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'haproxy'], { stdio: 'inherit', env });
  if (!existsSync(HAPROXY)) fail('apt-get install haproxy failed');
}

checkNode();
const pnpm = pnpmCommand();
ensureInstalled(pnpm);
ensureChromium();
ensurePrometheus();
ensureHaproxy();
ensurePostgresServer();
ensureWebBuilt(pnpm);
// The multi-replica tests start the production build (node dist/…), not tsx.
ensureDistBuilt(pnpm);

const only = process.argv.slice(2);
const want = (suite) => only.length === 0 || only.includes(suite);
const resultsDir = join(ROOT, '.qubot-test');
mkdirSync(resultsDir, { recursive: true });
const bin = (name) => join(ROOT, 'node_modules/.bin', name);
const totals = { passed: 0, failed: 0 };
const lines = [];
const record = (suite, passed, failed) => {
  totals.passed += passed;
  totals.failed += failed;
  lines.push(`${suite}: ${passed} passed, ${failed} failed`);
};

if (want('lint')) {
  log('lint (biome ci)…');
  const ok = run(bin('biome'), ['ci', '.']) === 0;
  record('lint', ok ? 1 : 0, ok ? 0 : 1);
}

if (want('typecheck')) {
  log('typecheck (tsc --noEmit in every package)…');
  const ok = run(pnpm[0], [...pnpm.slice(1), '-r', '--workspace-concurrency=2', 'run', 'typecheck']) === 0;
  record('typecheck', ok ? 1 : 0, ok ? 0 : 1);
}

if (want('unit')) {
  log('unit and API integration tests (vitest)…');
  const out = join(resultsDir, 'vitest-results.json');
  rmSync(out, { force: true });
  const status = run(bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    // A file that failed to load counts as a failure even when it holds no tests.
    const brokenFiles = (r.testResults ?? []).filter(
      (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
    ).length;
    record(
      'vitest',
      r.numPassedTests,
      r.numFailedTests + brokenFiles + (status !== 0 && r.numFailedTests + brokenFiles === 0 ? 1 : 0),
    );
  } else {
    record('vitest', 0, 1);
  }
}

if (want('e2e')) {
  log('browser tests (playwright, Chromium)…');
  const out = join(resultsDir, 'playwright-results.json');
  rmSync(out, { force: true });
  // Data directories of earlier browser-test runs (each run makes its own).
  for (const entry of readdirSync(resultsDir)) {
    if (!entry.startsWith('e2e-data')) continue;
    // Its cluster may live outside it (/var/lib/qubot/pg-<hash>) when the postgres user could not
    // reach it: removeEmbeddedData in @qubot/db, which this plain-Node script cannot import.
    try {
      const { clusterDir } = JSON.parse(readFileSync(join(resultsDir, entry, 'pg.json'), 'utf8'));
      if (typeof clusterDir === 'string' && /^\/var\/lib\/qubot\/pg-[0-9a-f]+\/pg$/.test(clusterDir))
        rmSync(dirname(clusterDir), { recursive: true, force: true });
    } catch {
      // no cluster recorded
    }
    rmSync(join(resultsDir, entry), { recursive: true, force: true });
  }
  const status = run(bin('playwright'), ['test', '--config', 'e2e/playwright.config.ts'], {
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: out, QUBOT_CHROMIUM: CHROMIUM },
  });
  if (existsSync(out)) {
    const s = JSON.parse(readFileSync(out, 'utf8')).stats ?? {};
    const failed = (s.unexpected ?? 0) + (s.flaky ?? 0);
    record('playwright', s.expected ?? 0, failed + (status !== 0 && failed === 0 ? 1 : 0));
  } else {
    record('playwright', 0, 1);
  }
}

for (const line of lines) log(line);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed\n`);
process.exit(totals.failed === 0 ? 0 : 1);
