import { createInterface } from 'node:readline';
import type { Io } from './command.ts';

/** Reads one line from the terminal; with `hidden`, the typed characters are not echoed. */
export function promptLine(io: Io, question: string, hidden = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const output = io.stderr;
    const rl = createInterface({ input: io.stdin, output, terminal: true });
    if (hidden) {
      // readline echoes through _writeToOutput; swallowing it hides the password but keeps the prompt.
      const r = rl as unknown as { _writeToOutput: (s: string) => void };
      const write = r._writeToOutput.bind(rl);
      let prompted = false;
      r._writeToOutput = (s: string) => {
        if (!prompted) {
          prompted = true;
          write(s);
        } else if (s.includes('\n') || s.includes('\r')) write('\n');
      };
    }
    rl.on('SIGINT', () => {
      rl.close();
      reject(new Error('interrupted'));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

/** All of stdin, e.g. `--password-stdin` or `--changelog-file -`. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
