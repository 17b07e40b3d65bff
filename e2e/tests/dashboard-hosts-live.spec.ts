// The Hosts page follows the fleet live (docs/hosts.md, "Live host data"): a real `qubot agent`
// on this machine connects while the page is open and its row turns ready — then disconnected when
// the agent dies — without a reload, from `host.updated` events; the page does not read the list
// again while the event stream is connected (no polling).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { CreatedEnrolmentToken } from '@qubot/api-contract';
import { startAgent } from './support/agent';
import { signIn } from './support/qubot';

const NAME = `e2e-live-${process.pid}`;

test('[HOSTS]: a host connecting and going away shows on the open page without reload or polling', async ({
  page,
  baseURL,
}) => {
  const admin = await signIn(page, 'admin');
  const dataDir = mkdtempSync(join(tmpdir(), 'qubot-e2e-live-agent-'));
  let agent: ChildProcess | null = null;
  try {
    const token = await admin.post<CreatedEnrolmentToken>('/hosts/enrolment-tokens', { name: NAME });
    const listReads: number[] = [];
    page.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === '/api/v1/hosts') listReads.push(Date.now());
    });
    await page.goto('/hosts');
    await expect(page.getByRole('heading', { name: 'Hosts', level: 1 })).toBeVisible();
    await expect.poll(() => listReads.length).toBeGreaterThan(0);
    const opened = Date.now();

    agent = startAgent({ server: baseURL as string, token: token.secret, dataDir, name: NAME });
    // Enrolled while the page is open: a new row (the list is read once for it), then ready with
    // its heartbeat's figures, from the events.
    const row = page.getByRole('row', { name: new RegExp(NAME) });
    await expect(row).toContainText('ready', { timeout: 30_000 });
    await expect(row).toContainText('0.1.0');
    await expect(row).toContainText('GiB');

    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGKILL');
    await exited;
    await expect(row).toContainText('disconnected', { timeout: 15_000 });

    // Longer than the fallback poll (5 s) has passed, and the list was not read on a timer: only
    // on opening, and once for the host it had not seen (its enrolment).
    // Absence of polling can only be shown over time: past one fallback interval.
    await page.waitForTimeout(Math.max(0, opened + 6_000 - Date.now()));
    expect(listReads.filter((at) => at > opened).length).toBeLessThanOrEqual(1);
  } finally {
    agent?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
