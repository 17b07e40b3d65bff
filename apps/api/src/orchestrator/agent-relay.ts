// The agent hubs of all control-plane processes, talking through PostgreSQL (docs/hosts.md,
// "Several control-plane processes"). An agent's websocket lands in whichever process serves it
// (`--role api` or `--role worker`); the process that drives its instances may be another one. The
// hubs tell each other, over one NOTIFY channel: the host's desired state (to the process holding
// its connection), its reports (to everyone), and requests and log lines (to the asker).
//
// A NOTIFY payload holds at most 8000 bytes: each message is sent as UTF-8 JSON cut into parts of
// RELAY_PART_BYTES, base64, and put back together by the receivers (parts may arrive in any order).
// Messages carry instance specs with their decrypted configuration, secrets included: with `seal`
// (the control plane's secret box, the same key in every process) each is encrypted (AES-256-GCM)
// before it is cut, so a session that LISTENs on the channel reads nothing of it.
import { randomBytes } from 'node:crypto';
import { backoffDelay } from '@qubot/core';
import { type Database, notify } from '@qubot/db';
import pg from 'pg';

export const AGENTS_CHANNEL = 'qubot_agents';
/** Bytes of a message per NOTIFY (base64 makes 4/3 of it: well under PostgreSQL's 8000). */
export const RELAY_PART_BYTES = 5_000;

interface Part {
  /** Sending process. */
  p: string;
  /** Message id (per sender). */
  m: number;
  i: number;
  n: number;
  d: string;
}

export interface AgentRelayOptions {
  db: Pick<Database, 'prisma' | 'url'>;
  log: { warn(obj: object, msg?: string): void };
  /** Encrypts each message for the other processes (docs/hosts.md); none: plain JSON. */
  seal?: {
    encrypt(plaintext: string, context: string): string;
    decrypt(sealed: string, context: string): string;
  };
}

export function createAgentRelay<M extends object>(opts: AgentRelayOptions) {
  /** This process, as the others address it. */
  const self = randomBytes(6).toString('hex');
  const handlers: ((msg: M) => void)[] = [];
  /** Messages being put back together: `${sender}:${id}` → parts. */
  const partial = new Map<string, { parts: (string | undefined)[]; got: number; at: number }>();
  let client: pg.Client | null = null;
  let stopped = false;
  let attempt = 0;
  let seq = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;

  function receive(text: string) {
    let part: Part;
    try {
      part = JSON.parse(text) as Part;
    } catch {
      return;
    }
    if (part.p === self || typeof part.d !== 'string') return;
    let body: string;
    if (part.n === 1) body = Buffer.from(part.d, 'base64').toString('utf8');
    else {
      const key = `${part.p}:${part.m}`;
      const entry = partial.get(key) ?? { parts: new Array(part.n), got: 0, at: Date.now() };
      partial.set(key, entry);
      if (entry.parts[part.i] === undefined) entry.got++;
      entry.parts[part.i] = part.d;
      if (entry.got < part.n) {
        // A sender that died mid-message leaves its parts: forget them after a minute.
        for (const [k, e] of partial) if (Date.now() - e.at > 60_000) partial.delete(k);
        return;
      }
      partial.delete(key);
      body = Buffer.concat(entry.parts.map((d) => Buffer.from(d ?? '', 'base64'))).toString('utf8');
    }
    let msg: M;
    try {
      msg = JSON.parse(opts.seal ? opts.seal.decrypt(body, AGENTS_CHANNEL) : body) as M;
    } catch (err) {
      opts.log.warn({ err }, 'agent relay: a message that cannot be read (another QUBOT_SECRET_KEY?)');
      return;
    }
    for (const h of handlers) h(msg);
  }

  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: opts.db.url });
    client = c;
    const lost = () => {
      if (client !== c || stopped) return;
      client = null;
      c.end().catch(() => {});
      reconnectTimer = setTimeout(
        () => {
          reconnectTimer = null;
          listen().catch((err) => opts.log.warn({ err }, 'agent relay LISTEN failed'));
        },
        backoffDelay(attempt++, { baseMs: 100, maxMs: 5_000 }, Math.random()),
      );
      reconnectTimer.unref();
    };
    c.on('error', lost);
    c.on('end', lost);
    c.on('notification', (n) => {
      if (n.channel === AGENTS_CHANNEL && n.payload) receive(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${AGENTS_CHANNEL}`);
      attempt = 0;
    } catch (err) {
      lost();
      throw err;
    }
  }

  return {
    self,
    onMessage(handler: (msg: M) => void) {
      handlers.push(handler);
    },
    /** Sends `msg` to every other process's hub (in parts when large); resolves once sent. */
    async publish(msg: M): Promise<void> {
      const text = JSON.stringify(msg);
      const bytes = Buffer.from(opts.seal ? opts.seal.encrypt(text, AGENTS_CHANNEL) : text, 'utf8');
      const n = Math.max(1, Math.ceil(bytes.length / RELAY_PART_BYTES));
      const m = ++seq;
      for (let i = 0; i < n; i++) {
        const d = bytes.subarray(i * RELAY_PART_BYTES, (i + 1) * RELAY_PART_BYTES).toString('base64');
        await notify(opts.db.prisma, AGENTS_CHANNEL, JSON.stringify({ p: self, m, i, n, d } satisfies Part));
      }
    },
    async start() {
      stopped = false;
      if (!client) await listen();
    },
    async stop() {
      stopped = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
export type AgentRelay<M extends object> = ReturnType<typeof createAgentRelay<M>>;
