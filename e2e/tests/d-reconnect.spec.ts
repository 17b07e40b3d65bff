import { expect, test, type WebSocketRoute } from '@playwright/test';
import {
  APP,
  type DeploymentView,
  finished,
  HEALTHY_RELEASES,
  liveIndicator,
  settle,
  signIn,
  TERMINAL,
} from './support/qubot';
import { expectTimeline, timelineStep } from './support/timeline';

const ENV = 'development';

interface Frame {
  connection: number;
  direction: 'sent' | 'received';
  message: { type: string; seq?: number; prev?: number; since?: number; lastSeq?: number; topics?: string[] };
}

const parse = (m: string | Buffer) =>
  JSON.parse(typeof m === 'string' ? m : m.toString('utf8')) as Frame['message'];
const finishedSteps = (d: DeploymentView) =>
  d.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;

test('[RECONNECT]: after the event stream is cut mid-rollout, the deployment page catches up with every step', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const api = await signIn(page, 'release-manager');
  const before = (await settle(api)).find((e) => e.name === ENV)!;
  const version = HEALTHY_RELEASES.find((v) => v !== before.live?.version)!;

  // The page's event socket goes through this proxy, which can cut it, refuse reconnections
  // while the "network" is down, and records every frame both ways.
  const frames: Frame[] = [];
  const open: { client: WebSocketRoute; server: WebSocketRoute }[] = [];
  let connections = 0;
  let down = false;
  await page.routeWebSocket(/\/api\/v1\/events$/, (client) => {
    const connection = ++connections;
    if (down) {
      void client.close({ code: 4001, reason: 'e2e: network down' });
      return;
    }
    const server = client.connectToServer();
    client.onMessage((m) => {
      frames.push({ connection, direction: 'sent', message: parse(m) });
      server.send(m);
    });
    server.onMessage((m) => {
      frames.push({ connection, direction: 'received', message: parse(m) });
      client.send(m);
    });
    open.push({ client, server });
  });

  // A canary of a healthy release with short holds: several steps, about fifteen seconds.
  const deployment = await api.post<DeploymentView>(`/apps/${APP}/environments/${ENV}/deployments`, {
    version,
    strategy: 'canary',
    reason: 'e2e: reconnect during a rollout',
    options: { steps: [25, 50, 100], stepDurationSeconds: 2 },
  });
  await page.goto(`/deployments/${deployment.id}`);
  await expect(liveIndicator(page)).toBeVisible();
  const first = (await api.deployment(deployment.id)).steps[0]!;
  await expect(timelineStep(page, first.name)).toContainText('Succeeded', { timeout: 30_000 });

  // Cut: close both ends of the live socket and refuse new ones.
  const lastSeqBeforeCut = Math.max(
    ...frames
      .filter((f) => f.direction === 'received')
      .map((f) => (f.message.type === 'event' ? f.message.seq! : (f.message.lastSeq ?? f.message.seq ?? 0))),
  );
  const connectionBeforeCut = connections;
  down = true;
  for (const { client, server } of open.splice(0)) {
    await client.close({ code: 4001, reason: 'e2e: network cut' });
    await server.close();
  }
  await expect(page.getByTitle(/Live updates unavailable/)).toBeVisible();

  // The rollout moves on while the page is cut off: two more steps finish (or the whole of it).
  const atCut = finishedSteps(await api.deployment(deployment.id));
  await expect
    .poll(
      async () => {
        const d = await api.deployment(deployment.id);
        return TERMINAL.includes(d.status) || finishedSteps(d) >= atCut + 2;
      },
      { timeout: 60_000, intervals: [250] },
    )
    .toBe(true);
  down = false;

  // Back online: the client reconnects by itself and resumes where it stopped.
  await expect(liveIndicator(page)).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('status', { name: 'Deployment status' })).toHaveText('Succeeded', {
    timeout: 60_000,
  });
  const stored = await finished(api, deployment.id);
  expect(stored.status).toBe('succeeded');
  await expectTimeline(page, stored.steps);

  // It resumed from a seq (not from scratch), and the server replayed from there in order,
  // without a gap: what happened during the cut, and anything in flight when it was cut.
  const resumed = frames.find(
    (f) => f.connection > connectionBeforeCut && f.direction === 'sent' && f.message.type === 'subscribe',
  );
  expect(resumed, 'a subscription after the reconnect').toBeDefined();
  const since = resumed!.message.since;
  expect(typeof since, 'the resubscription carries since').toBe('number');
  const after = frames.filter((f) => f.connection === resumed!.connection && f.direction === 'received');
  const subscribed = after.find((f) => f.message.type === 'subscribed')!;
  expect(subscribed.message.since).toBe(since);
  const events = after.filter((f) => f.message.type === 'event').map((f) => f.message);
  expect(events[0]!.prev).toBe(since);
  for (const [i, e] of events.entries()) if (i > 0) expect(e.prev).toBe(events[i - 1]!.seq);
  const replayed = events.filter((e) => e.seq! <= subscribed.message.lastSeq!).map((e) => e.seq);
  const inFlight = frames
    .filter(
      (f) => f.connection <= connectionBeforeCut && f.message.type === 'event' && f.message.seq! > since!,
    )
    .map((f) => f.message.seq);
  expect(replayed).toEqual(expect.arrayContaining(inFlight));
  const missed = events.filter(
    (e) =>
      e.seq! > lastSeqBeforeCut &&
      e.seq! <= subscribed.message.lastSeq! &&
      e.topics?.includes(`deployment:${deployment.id}`),
  );
  expect(missed.length, 'events of the deployment stored during the cut, replayed').toBeGreaterThan(0);
});
