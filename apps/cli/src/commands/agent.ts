import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { AgentError, runAgent } from '../agent/agent.ts';
import { str } from '../args-utils.ts';
import type { Command } from '../command.ts';
import { CliError, ExitCode, UsageError } from '../exit-utils.ts';

/** `qubot agent`: this machine becomes a host of the control plane (docs/hosts.md). Runs until stopped. */
export const agent: Command = {
  name: ['agent'],
  summary: 'Run this machine as a host: enrol once, then run the instances the control plane places here',
  options: {
    enrol: {
      type: 'string',
      value: 'TOKEN',
      description: 'One-time enrolment token from an admin (needed only the first time)',
    },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      description: 'Where the credential, instance specs, status and logs are kept (default .qubot-agent)',
    },
    address: {
      type: 'string',
      value: 'IP',
      description:
        "This host's address: instances listen on it; the control plane and routers reach them there",
    },
    name: {
      type: 'string',
      value: 'NAME',
      description: 'Host name at enrolment (default: the machine name)',
    },
    capacity: { type: 'string', value: 'N', description: 'Instances this host takes at most (default 8)' },
  },
  examples: [
    'qubot agent --server https://deploy.example.com --enrol qhe_… --address 10.0.0.12 --data-dir /var/lib/qubot-agent',
    'qubot agent --server https://deploy.example.com --address 10.0.0.12 --data-dir /var/lib/qubot-agent',
  ],
  details:
    'Keeps one outbound websocket to the server (no port of its own is opened), sends heartbeats, and converges to the desired state it is sent. Instances outlive the agent: a restarted agent re-adopts them. Exits 0 on SIGTERM/SIGINT, 3 when its credential is revoked.',
  async run(ctx) {
    const address = str(ctx.values, 'address');
    if (!address) throw new UsageError('missing --address (the IP where instances on this host are reached)');
    const capacityText = str(ctx.values, 'capacity');
    const capacity = capacityText === undefined ? undefined : Number(capacityText);
    if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 1))
      throw new UsageError('--capacity must be a positive whole number');
    const log = (msg: string, extra: object = {}) =>
      ctx.io.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), component: 'agent', msg, ...extra })}\n`,
      );
    let running: Awaited<ReturnType<typeof runAgent>>;
    try {
      running = await runAgent({
        server: ctx.server,
        dataDir: resolve(str(ctx.values, 'data-dir') ?? '.qubot-agent'),
        address,
        name: str(ctx.values, 'name') ?? hostname().toLowerCase(),
        enrolToken: str(ctx.values, 'enrol'),
        capacity,
        log,
      });
    } catch (err) {
      if (err instanceof AgentError) throw new CliError(err.message, ExitCode.Auth);
      throw err;
    }
    log('enrolled', { host: running.enrolment.name, hostId: running.enrolment.hostId });
    const stop = () => void running.stop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    let revoked = true;
    const stopped = new Promise<void>((r) => {
      process.once('SIGTERM', () => {
        revoked = false;
        r();
      });
      process.once('SIGINT', () => {
        revoked = false;
        r();
      });
    });
    await Promise.race([running.done, stopped]);
    return revoked ? ExitCode.Auth : ExitCode.Ok;
  },
};
