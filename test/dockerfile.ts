// Parses a Dockerfile into stages of instructions, for the Dockerfile tests.

export interface Instruction {
  op: string;
  args: string;
  line: number;
}
export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** Dockerfile → stages of instructions (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) startLine = i + 1;
    pending += `${line.replace(/\\$/, '').trim()} `;
    if (line.endsWith('\\')) return;
    const [op = '', ...rest] = pending.trim().split(/\s+/);
    const args = rest.join(' ');
    pending = '';
    if (op.toUpperCase() === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2] ?? null, instructions: [] });
      return;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`line ${startLine}: ${op} before FROM`);
    stage.instructions.push({ op: op.toUpperCase(), args, line: startLine });
  });
  return stages;
}
