import { execFileSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';

// One server for the run: the real API with embedded PostgreSQL in a fresh
// data directory, in demo mode, serving the built web app.
// A free port chosen once in the runner process (like the data directory below) and inherited by the
// workers, so that two runs on one machine never meet on a fixed port. QUBOT_E2E_PORT overrides it.
process.env.QUBOT_E2E_PORT ??= execFileSync(process.execPath, [
  '-e',
  "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });",
]).toString();
const port = Number(process.env.QUBOT_E2E_PORT);
export const baseURL = `http://127.0.0.1:${port}`;
// A fresh data directory per run (fresh database, no instances). It is chosen
// once in the runner process and inherited by the workers through the
// environment. Playwright starts the webServer before any globalSetup, so the
// directory must never be cleared from inside the run; `npm test` removes old
// ones before it starts.
process.env.QUBOT_E2E_DATA_DIR ??= `.qubot-test/e2e-data-${process.pid}`;
const dataDir = process.env.QUBOT_E2E_DATA_DIR;

export default defineConfig({
  testDir: './tests',
  // Its own results directory per concurrent run (Playwright empties it at start).
  outputDir: process.env.QUBOT_E2E_OUTPUT_DIR ?? '../.qubot-test/e2e-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.QUBOT_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'node --import tsx apps/api/src/main.ts --demo',
    cwd: '..',
    url: `${baseURL}/readyz`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 60_000 },
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      QUBOT_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Many browser contexts sign in from 127.0.0.1 within a minute; the limit itself is tested in
      // apps/api/src/routes/auth-router.test.ts.
      QUBOT_LOGIN_RATE_LIMIT: '1000',
      // No scheduled backup or restore drill in the middle of the timing-sensitive browser flows;
      // the schedule is tested in apps/api/src/routes/backup-router.test.ts.
      QUBOT_BACKUP_EVERY_HOURS: 'off',
      QUBOT_RESTORE_DRILL_EVERY_HOURS: 'off',
    },
  },
});
