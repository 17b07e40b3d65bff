// Lints the Dockerfile's instructions (no container engine runs on these machines, so the image is
// never built here): stages, base image, user, dependencies, health check and entry point. Each
// rule is a function over the parsed instructions, and a second test feeds each rule a broken
// Dockerfile to show that it catches what it is for.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerfile, type Stage } from './dockerfile.ts';

/** Every rule returns the problems it found (empty: the rule holds). */
const RULES: Record<string, (stages: Stage[]) => string[]> = {
  'multi-stage: a build stage and a separate final stage': (stages) =>
    stages.length >= 2 ? [] : [`${stages.length} stage(s)`],

  'base images are node:20 pinned to a full version (no latest, no floating major)': (stages) =>
    stages
      .filter((s) => !stages.some((o) => o.name === s.from))
      .filter((s) => !/^node:20\.\d+\.\d+(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$/.test(s.from))
      .map((s) => `FROM ${s.from}`),

  'the final stage runs as a non-root user': (stages) => {
    const final = stages[stages.length - 1] as Stage;
    const users = final.instructions.filter((i) => i.op === 'USER');
    const last = users[users.length - 1];
    if (!last) return ['no USER in the final stage'];
    const user = last.args.split(':')[0] as string;
    if (user === 'root' || user === '0') return [`USER ${last.args}`];
    const entry = final.instructions.findLast((i) => i.op === 'ENTRYPOINT' || i.op === 'CMD');
    return entry && entry.line < last.line ? ['USER comes after the entry point'] : [];
  },

  'no dev dependencies in the final image': (stages) => {
    const problems: string[] = [];
    const final = stages[stages.length - 1] as Stage;
    for (const i of final.instructions)
      if (i.op === 'RUN' && /\b(pnpm|npm|yarn)\s+(install|i|add|ci)\b/.test(i.args))
        problems.push(`final stage installs packages: RUN ${i.args}`);
    // node_modules reach the final stage only from stages that installed production dependencies.
    for (const i of final.instructions.filter((x) => x.op === 'COPY')) {
      const from = /--from=(\S+)/.exec(i.args)?.[1];
      if (!from) continue;
      const source = stages.find((s) => s.name === from);
      const copiesModules = /node_modules/.test(i.args) || /\s\/\S*\/?\s+\.\/?$/.test(i.args);
      if (!source || !copiesModules) continue;
      const installs = source.instructions.filter(
        (x) => x.op === 'RUN' && /\b(pnpm|npm|yarn)\s+(install|i|ci)\b(?!\s+--global)/.test(x.args),
      );
      if (installs.length === 0)
        problems.push(`COPY --from=${from} of node_modules: that stage installs nothing`);
      for (const x of installs)
        if (!/--prod\b|--production\b|--omit=dev\b/.test(x.args))
          problems.push(`stage ${from} installs dev dependencies: RUN ${x.args}`);
    }
    return problems;
  },

  'the final stage copies built JavaScript, not TypeScript sources': (stages) => {
    const final = stages[stages.length - 1] as Stage;
    return final.instructions
      .filter((i) => i.op === 'COPY' && /--from=/.test(i.args))
      .filter((i) =>
        /(apps|packages)\/[^/]+\/src(\/|$)/.test(
          i.args.replace(/^--from=\S+\s+/, '').split(/\s+/)[0] as string,
        ),
      )
      .map((i) => `COPY ${i.args}`);
  },

  'starts the built control plane with plain node (no tsx), production settings': (stages) => {
    const final = stages[stages.length - 1] as Stage;
    const problems: string[] = [];
    const entry = final.instructions.find((i) => i.op === 'ENTRYPOINT');
    if (!entry) return ['no ENTRYPOINT'];
    const argv = JSON.parse(entry.args) as string[];
    if (argv[0] !== 'node' || !/dist\/main\.js$/.test(argv[argv.length - 1] as string))
      problems.push(`ENTRYPOINT ${entry.args}`);
    const all = final.instructions.map((i) => i.args).join('\n');
    if (/\btsx\b/.test(all)) problems.push('tsx in the final stage');
    const env = final.instructions
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    if (!/NODE_ENV=production/.test(env)) problems.push('NODE_ENV is not production');
    // Workspace packages resolve to their dist/ only under this condition (docs/kubernetes.md).
    if (!/NODE_OPTIONS=--conditions=qubot-dist/.test(env) && !argv.includes('--conditions=qubot-dist'))
      problems.push('the qubot-dist condition is not set');
    return problems;
  },

  'a HEALTHCHECK on /readyz': (stages) => {
    const final = stages[stages.length - 1] as Stage;
    const hc = final.instructions.find((i) => i.op === 'HEALTHCHECK');
    return hc && /\/readyz/.test(hc.args) ? [] : ['no HEALTHCHECK on /readyz'];
  },
};

const DOCKERFILE = readFileSync(join(import.meta.dirname, '../Dockerfile'), 'utf8');

describe('[DEPLOY] Dockerfile lint (instructions parsed; no container engine here to build it)', () => {
  const stages = parseDockerfile(DOCKERFILE);
  for (const [name, rule] of Object.entries(RULES)) {
    it(name, () => {
      expect(rule(stages)).toEqual([]);
    });
  }

  it('the final stage carries every dist/ the control plane imports, the dashboard and the migrations', () => {
    const final = stages[stages.length - 1] as Stage;
    const copied = final.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);
    for (const dir of [
      'apps/api/dist',
      'apps/cli/dist',
      'apps/web/dist',
      'packages/api-contract/dist',
      'packages/client/dist',
      'packages/core/dist',
      'packages/db/dist',
      'packages/runtime/dist',
      'prisma/migrations',
    ])
      expect(copied.some((c) => c.includes(`/src/${dir} `))).toBe(true);
  });

  it('each rule catches the mistake it is for', () => {
    const broken = (edit: (text: string) => string) => parseDockerfile(edit(DOCKERFILE));
    const cases: [string, Stage[]][] = [
      [
        'multi-stage: a build stage and a separate final stage',
        parseDockerfile('FROM node:20.20.2\nUSER 1000\n'),
      ],
      [
        'base images are node:20 pinned to a full version (no latest, no floating major)',
        broken((t) => t.replace('FROM node:20.20.2-bookworm-slim AS runtime', 'FROM node:20 AS runtime')),
      ],
      ['the final stage runs as a non-root user', broken((t) => t.replace('USER 10001:10001', 'USER root'))],
      [
        'no dev dependencies in the final image',
        broken((t) =>
          t.replace('--frozen-lockfile --prod --ignore-scripts', '--frozen-lockfile --ignore-scripts'),
        ),
      ],
      [
        'the final stage copies built JavaScript, not TypeScript sources',
        broken((t) => t.replace('/src/apps/api/dist apps/api/dist', '/src/apps/api/src apps/api/src')),
      ],
      [
        'starts the built control plane with plain node (no tsx), production settings',
        broken((t) =>
          t.replace(
            'ENTRYPOINT ["node", "apps/api/dist/main.js"]',
            'ENTRYPOINT ["npx", "tsx", "apps/api/src/main.ts"]',
          ),
        ),
      ],
      ['a HEALTHCHECK on /readyz', broken((t) => t.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, ''))],
    ];
    for (const [name, stagesOfBroken] of cases) {
      const rule = RULES[name];
      expect(rule, name).toBeDefined();
      expect(rule?.(stagesOfBroken), name).not.toEqual([]);
    }
  });
});
