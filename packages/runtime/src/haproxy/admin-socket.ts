// HAProxy's runtime API over its admin stats socket: one connection per command line (HAProxy runs
// the line, answers and closes), so there is no session state to lose and no prompt to parse.
import { createConnection } from 'node:net';

export class HaproxyAdminError extends Error {
  override name = 'HaproxyAdminError';
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(`haproxy "${command}": ${message}`);
  }
}

/** A row of `show stat`, by column name (`pxname`, `svname`, `scur`, `status`, `addr`, …). */
export type StatRow = Record<string, string>;

/** Splits one CSV line: `,` separated, `"…"` quoting with `""` for a quote (HAProxy's format). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Parses `show stat` CSV: a `# pxname,svname,…` header, then one line per proxy or server. */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => l.startsWith('# '));
  if (header < 0) throw new Error(`not a "show stat" answer: ${text.slice(0, 200)}`);
  const names = parseCsvLine((lines[header] as string).slice(2));
  const rows: StatRow[] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.trim()) continue;
    const values = parseCsvLine(line);
    const row: StatRow = {};
    names.forEach((name, i) => {
      if (name) row[name] = values[i] ?? '';
    });
    rows.push(row);
  }
  return rows;
}

export class HaproxyAdmin {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /**
   * Sends one command line (several commands may be joined with `;`), with an optional payload
   * (`<cmd> <<`, its lines, an empty line), and returns the whole answer.
   */
  send(command: string, payload?: string): Promise<string> {
    const verb = command.split(' ').slice(0, 2).join(' ');
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(Buffer.concat(chunks).toString('utf8'));
      };
      const socket = createConnection(this.socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        finish(new HaproxyAdminError(verb, `no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('error', (err) => finish(new HaproxyAdminError(verb, err.message)));
      socket.once('close', () => finish(null));
      // No half-close: HAProxy answers, then closes the connection itself.
      socket.write(
        payload === undefined ? `${command}\n` : `${command} <<\n${payload.replace(/\n*$/, '')}\n\n`,
      );
    });
  }

  /** Sends a command whose success is a silent answer (or one matching `ok`); anything else throws. */
  async run(command: string, ok?: RegExp, payload?: string): Promise<string> {
    const answer = (await this.send(command, payload)).trim();
    if (answer && !(ok && answerLines(answer).every((l) => ok.test(l)))) {
      throw new HaproxyAdminError(command.split(' ').slice(0, 2).join(' '), answer.slice(0, 500));
    }
    return answer;
  }

  async showStat(): Promise<StatRow[]> {
    return parseShowStat(await this.send('show stat'));
  }

  /** `show info` as name → value (`Pid`, `Uptime_sec`, `Version`, …). */
  async showInfo(): Promise<Record<string, string>> {
    const info: Record<string, string> = {};
    for (const line of (await this.send('show info')).split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) info[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    return info;
  }
}

const answerLines = (answer: string) => answer.split('\n').filter((l) => l.trim() !== '');
