// Test helper (not a test): the real server and worker with the promotion policies running,
// listening on a free port, a release-manager API token for the CLI, and a HOME of its own —
// what the CI-flow tests (`release create … --wait`) run the real CLI process against.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startHarness } from '../../api/src/orchestrator/test-helpers.ts';
import { createCliRunner } from './cli-process.ts';

export async function startPolicyServer(name: string) {
  const h = await startHarness({ policies: { run: true, coalesceMs: 100 } });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const server = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  const admin = await h.as('admin');
  // The seeded releases' newest (1.3.0-faulty) reported passing tests: development's policy would
  // deploy it (and the later policies promote it) the moment the test makes it automatic — a policy
  // acts on its own change's event — and the release under test would queue behind it. A newer
  // release without test results leaves the first policy nothing to deploy until the test's own.
  const untested = await h.post('/apps/qubot-one/releases', {
    version: '9.0.0-untested',
    artifact: 'qubot-one/healthy',
  });
  expect(untested.statusCode, untested.body).toBe(201);
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/tokens',
    headers: admin,
    payload: { name: 'ci', role: 'release-manager' },
  });
  expect(res.statusCode, res.body).toBe(201);
  const token: string = res.json().secret;
  const home = await mkdtemp(join(tmpdir(), `qubot-cli-${name}-`));
  const cli = createCliRunner(() => ({
    HOME: home,
    QUBOT_SERVER: server,
    QUBOT_TOKEN: token,
    QUBOT_APP: 'qubot-one',
    // The waits ride out a slow machine's hiccups like CI would.
    QUBOT_RETRIES: undefined,
  }));
  return {
    h,
    admin,
    cli,
    async close() {
      cli.killAll();
      await h.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
