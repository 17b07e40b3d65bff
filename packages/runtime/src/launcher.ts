/**
 * Launcher templates: an admin-configured command line per application, e.g.
 * `node --import tsx apps/qubot-one/src/main.ts --artifact {artifact} --port {port}`.
 *
 * The template is split into argv ONCE, then placeholders are replaced inside each argv element.
 * No shell is ever involved, so whatever a release carries in its artifact reference stays a
 * single argument: `x; touch /tmp/pwned` or `$(id)` are just strings.
 */

export const LAUNCHER_PLACEHOLDERS = ['version', 'artifact', 'port', 'pool', 'instanceId'] as const;
export type LauncherPlaceholder = (typeof LAUNCHER_PLACEHOLDERS)[number];
export type LauncherValues = Record<LauncherPlaceholder, string>;

export class LauncherError extends Error {
  override name = 'LauncherError';
}

/** Splits a command template into words: whitespace separates, '…' is literal, "…" allows \" and \\. */
export function splitCommandLine(template: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === "'") {
      const end = template.indexOf("'", i + 1);
      if (end < 0) throw new LauncherError('unterminated single quote in launcher');
      word += template.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < template.length) {
        const d = template[i] as string;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && (template[i + 1] === '"' || template[i + 1] === '\\')) {
          word += template[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new LauncherError('unterminated double quote in launcher');
      inWord = true;
    } else if (c === '\\' && i + 1 < template.length) {
      word += template[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** Placeholders of a job launcher (deployment hooks, docs/hooks.md). */
export const JOB_LAUNCHER_PLACEHOLDERS = ['job', 'version', 'artifact', 'environment'] as const;
export type JobLauncherValues = Record<(typeof JOB_LAUNCHER_PLACEHOLDERS)[number], string>;

/** Parses and validates a launcher template; throws LauncherError on unknown placeholders. */
export function parseLauncher(template: string, known: readonly string[] = LAUNCHER_PLACEHOLDERS): string[] {
  if (/[\0\r\n]/.test(template)) throw new LauncherError('launcher must be a single line');
  const argv = splitCommandLine(template);
  if (argv.length === 0) throw new LauncherError('launcher is empty');
  if (/\{[A-Za-z]+\}/.test(argv[0] as string)) {
    throw new LauncherError('the launcher program itself cannot be a placeholder');
  }
  for (const word of argv) {
    for (const m of word.matchAll(PLACEHOLDER)) {
      if (!known.includes(m[1] as string)) {
        throw new LauncherError(
          `unknown placeholder {${m[1]}} in launcher (known: ${known.map((p) => `{${p}}`).join(' ')})`,
        );
      }
    }
  }
  return argv;
}

/** Fills placeholders in each argv element; one template word always yields exactly one argument. */
export function renderLauncher(
  template: string,
  values: LauncherValues,
): { command: string; args: string[] } {
  const argv = parseLauncher(template).map((word) =>
    word.replace(PLACEHOLDER, (_, name: string) => values[name as LauncherPlaceholder]),
  );
  const [command, ...args] = argv as [string, ...string[]];
  return { command, args };
}

/** Fills a job launcher's placeholders; like `renderLauncher`, one word is one argument, no shell. */
export function renderJobLauncher(
  template: string,
  values: JobLauncherValues,
): { command: string; args: string[] } {
  const argv = parseLauncher(template, JOB_LAUNCHER_PLACEHOLDERS).map((word) =>
    word.replace(PLACEHOLDER, (_, name: string) => values[name as keyof JobLauncherValues]),
  );
  const [command, ...args] = argv as [string, ...string[]];
  return { command, args };
}

/**
 * An artifact reference is data (a build path or an image), never a command line. It may contain
 * spaces or shell metacharacters (they are harmless without a shell), but not control characters,
 * and it must not start with `-` so that it cannot be read as an option by the launched program.
 */
export function validateArtifactRef(ref: string): void {
  if (typeof ref !== 'string' || ref.length === 0) throw new LauncherError('artifact reference is empty');
  if (ref.length > 512) throw new LauncherError('artifact reference is longer than 512 characters');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(ref))
    throw new LauncherError('artifact reference contains control characters');
  if (ref.startsWith('-')) throw new LauncherError('artifact reference must not start with "-"');
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/** Versions, pools and instance ids are labels: they also end up in argv, file names and metrics. */
export function validateLabel(kind: string, value: string): void {
  if (typeof value !== 'string' || !LABEL.test(value)) {
    throw new LauncherError(`invalid ${kind} ${JSON.stringify(value)}: use letters, digits and . _ + -`);
  }
}
