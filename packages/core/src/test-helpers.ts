// A fake orchestrator for the tests: executes commands with scripted results and delivers timers.
import { type DeploymentState, initialState, type TransitionResult, transition } from './machine.ts';
import type { DeploymentInput } from './program.ts';
import type { Command, DeploymentEvent } from './types.ts';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** Return an event to answer the command, `'default'` for the happy answer, or null to leave it in flight. */
export type Responder = (cmd: Command, sim: Sim) => DeploymentEvent | 'default' | null;

export function defaultAnswer(cmd: Command): DeploymentEvent | null {
  switch (cmd.kind) {
    case 'startInstances':
      return { type: 'instancesStarted', commandId: cmd.id };
    case 'stopInstances':
      return { type: 'instancesStopped', commandId: cmd.id };
    case 'waitHealthy':
      return { type: 'healthy', commandId: cmd.id, count: cmd.count };
    case 'setTraffic':
      return { type: 'trafficSet', commandId: cmd.id };
    case 'exposePreview':
      return { type: 'previewReady', commandId: cmd.id, url: 'http://127.0.0.1:9999' };
    case 'smokeCheck':
      return { type: 'smokeResult', commandId: cmd.id, passed: true };
    case 'collectMetrics':
      return { type: 'metrics', commandId: cmd.id, requests: 200, errors: 1, p95Ms: 40 };
    case 'runHook':
      return { type: 'hookResult', commandId: cmd.id, passed: true, message: 'exited 0' };
    default:
      return null;
  }
}

export class Sim {
  state: DeploymentState;
  now = T0;
  /** Every command ever emitted, in order. */
  readonly log: Command[] = [];
  readonly queue: Command[] = [];
  readonly timers = new Map<string, number>();
  readonly results: TransitionResult[] = [];
  responder: Responder = () => 'default';

  constructor(input: Partial<DeploymentInput> & Pick<DeploymentInput, 'strategy'>) {
    this.state = initialState(
      { version: 'v2', fromVersion: 'v1', activeColor: 'blue', replicas: 3, ...input },
      this.now,
    );
  }

  send(event: DeploymentEvent): TransitionResult {
    const r = transition(this.state, event, this.now);
    this.results.push(r);
    this.state = r.state;
    for (const c of r.commands) {
      this.log.push(c);
      if (c.kind === 'setTimer') this.timers.set(c.name, c.at);
      else if (c.kind === 'cancelTimer') this.timers.delete(c.name);
      else this.queue.push(c);
    }
    return r;
  }

  /** Execute queued commands and fire due-or-next timers until nothing moves. */
  run(opts: { timers?: boolean } = {}): this {
    const fireTimers = opts.timers ?? true;
    for (let guard = 0; guard < 10_000; guard++) {
      const cmd = this.queue.shift();
      if (cmd) {
        const answer = this.responder(cmd, this);
        const ev = answer === 'default' ? defaultAnswer(cmd) : answer;
        if (ev) this.send(ev);
        continue;
      }
      if (!fireTimers || this.timers.size === 0) return this;
      // A person's wait is not a timer to run out in the happy path.
      if (this.state.status === 'paused') return this;
      this.fireNextTimer();
    }
    throw new Error('simulation did not settle');
  }

  fireNextTimer(): TransitionResult {
    const [name, at] = [...this.timers.entries()].sort((a, b) => a[1] - b[1])[0]!;
    this.timers.delete(name);
    this.now = Math.max(this.now, at);
    return this.send({ type: 'timerFired', name });
  }

  fireTimer(prefix: string): TransitionResult {
    const entry = [...this.timers.entries()].find(([n]) => n.includes(prefix));
    if (!entry) throw new Error(`no timer matching ${prefix}: ${[...this.timers.keys()].join(', ')}`);
    this.timers.delete(entry[0]);
    this.now = Math.max(this.now, entry[1]);
    return this.send({ type: 'timerFired', name: entry[0] });
  }

  start(): this {
    this.send({ type: 'start' });
    return this;
  }

  /** Commands other than timers, as compact strings, for sequence assertions. */
  trace(): string[] {
    return this.log.filter((c) => c.kind !== 'setTimer' && c.kind !== 'cancelTimer').map(describeCommand);
  }

  stepStatuses(): string[] {
    return this.state.steps.map((s) => `${s.key}:${s.status}`);
  }

  pendingCommand(): Command | null {
    return this.state.inFlight?.command ?? null;
  }
}

export function describeCommand(c: Command): string {
  switch (c.kind) {
    case 'startInstances':
      return `start ${c.pool} ${c.version} +${c.count}=${c.total}`;
    case 'stopInstances':
      return `stop ${c.pool} ${c.count}=${c.total}`;
    case 'waitHealthy':
      return `health ${c.pool} ${c.count}`;
    case 'setTraffic':
      return `traffic blue=${c.weights.blue} green=${c.weights.green} active=${c.activeColor}`;
    case 'exposePreview':
      return `preview ${c.pool}`;
    case 'smokeCheck':
      return `smoke ${c.pool}`;
    case 'collectMetrics':
      return `metrics ${c.pool} ${c.windowMs}ms`;
    case 'runHook':
      return `hook ${c.phase} ${c.job}`;
    case 'setTimer':
      return `timer ${c.name}`;
    case 'cancelTimer':
      return `cancel ${c.name}`;
  }
}
