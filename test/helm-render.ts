// Renders deploy/helm/qubot the way `helm template` does, for the chart tests: Helm itself is not
// installed on these machines (no Debian package, no download), so this implements the part of
// Go's text/template and of Helm's functions that the chart uses, and nothing else — an action or
// a function outside that subset, or a value path missing from the values, is an error rather
// than an empty string, so a chart change that needs more fails its test instead of rendering
// something Helm would not.
//
// Supported: `{{ pipeline }}`, `{{- … -}}` whitespace trimming, `{{/* comments */}}`,
// `if` / `else` / `end`, `range` over a list (`.` is the item, `$` the root), `define` in
// `_*.tpl` files; values `.`, `$`, `.A.b`, `$.A.b`, "strings", numbers, true/false; functions
// include, quote, default, toYaml, nindent, indent, not, and, or (Go's truthiness: false, 0, "",
// null, empty lists and maps are false).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; pipe: string }
  | { kind: 'if'; pipe: string; yes: Node[]; no: Node[] }
  | { kind: 'range'; pipe: string; body: Node[] };

interface Scope {
  dot: unknown;
  root: unknown;
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<
  string,
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, checked by the Kubernetes schemas
  any
>;

export class TemplateError extends Error {}

function tokenize(src: string, file: string): ({ text: string } | { action: string })[] {
  const out: ({ text: string } | { action: string })[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open === -1 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      out.push({ text });
      break;
    }
    const close = src.indexOf('}}', open);
    if (close === -1) throw new TemplateError(`${file}: unclosed {{`);
    let inner = src.slice(open + 2, close);
    if (inner.startsWith('-')) {
      if (!/^-\s/.test(inner)) throw new TemplateError(`${file}: "{{-" needs a space after it`);
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = false;
    if (inner.endsWith('-')) {
      if (!/\s-$/.test(inner)) throw new TemplateError(`${file}: "-}}" needs a space before it`);
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    out.push({ text });
    inner = inner.trim();
    if (!(inner.startsWith('/*') && inner.endsWith('*/'))) out.push({ action: inner });
    i = close + 2;
  }
  return out;
}

function parse(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const tokens = tokenize(src, file);
  let pos = 0;
  function block(stopAt: string[]): { nodes: Node[]; stop: string } {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++] as { text: string } | { action: string };
      if ('text' in t) {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const [word, ...rest] = t.action.split(/\s+/);
      const arg = rest.join(' ');
      if (word === 'end' || word === 'else') {
        if (!stopAt.includes(word)) throw new TemplateError(`${file}: unexpected {{ ${word} }}`);
        if (word === 'else' && arg) throw new TemplateError(`${file}: "else ${arg}" is not supported`);
        return { nodes, stop: word };
      }
      if (word === 'if') {
        const then = block(['else', 'end']);
        const other = then.stop === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', pipe: arg, yes: then.nodes, no: other });
      } else if (word === 'range') {
        nodes.push({ kind: 'range', pipe: arg, body: block(['end']).nodes });
      } else if (word === 'define') {
        const name = JSON.parse(arg) as string;
        defines.set(name, block(['end']).nodes);
      } else if (word && /^(with|template|block|else\b)/.test(word)) {
        throw new TemplateError(`${file}: {{ ${word} }} is outside the renderer's subset`);
      } else {
        nodes.push({ kind: 'out', pipe: t.action });
      }
    }
    if (stopAt.length > 0) throw new TemplateError(`${file}: missing {{ end }}`);
    return { nodes, stop: '' };
  }
  return block([]).nodes;
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function splitOutside(s: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && sep.test(ch)) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

export function createRenderer(chartDir: string) {
  const defines = new Map<string, Node[]>();
  const files = readdirSync(join(chartDir, 'templates')).sort();
  const templates: [string, Node[]][] = [];
  for (const f of files) {
    const src = readFileSync(join(chartDir, 'templates', f), 'utf8');
    const nodes = parse(src, f, defines);
    if (!f.startsWith('_')) templates.push([f, nodes]);
  }

  function value(token: string, scope: Scope): unknown {
    if (token.startsWith('"')) return JSON.parse(token);
    if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
    if (token === 'true' || token === 'false') return token === 'true';
    let base: unknown;
    let path: string;
    if (token === '.' || token === '$') return token === '.' ? scope.dot : scope.root;
    if (token.startsWith('$.')) {
      base = scope.root;
      path = token.slice(2);
    } else if (token.startsWith('.')) {
      base = scope.dot;
      path = token.slice(1);
    } else throw new TemplateError(`unknown value or function "${token}"`);
    for (const key of path.split('.')) {
      if (base === null || typeof base !== 'object' || !(key in base))
        throw new TemplateError(`${token}: no such value (${key})`);
      base = (base as Record<string, unknown>)[key];
    }
    return base;
  }

  const FUNCS: Record<string, (args: unknown[], scope: Scope) => unknown> = {
    include: ([name, dot], scope) => {
      const body = defines.get(name as string);
      if (!body) throw new TemplateError(`include: no template "${name}"`);
      return run(body, { dot, root: scope.root });
    },
    quote: ([v]) => JSON.stringify(String(v ?? '')),
    default: ([fallback, v]) => (truthy(v) ? v : fallback),
    toYaml: ([v]) => YAML.stringify(v).replace(/\n$/, ''),
    nindent: ([n, s]) => `\n${indentLines(String(s), n as number)}`,
    indent: ([n, s]) => indentLines(String(s), n as number),
    not: ([v]) => !truthy(v),
    and: (args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
    or: (args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  };

  function pipeline(pipe: string, scope: Scope): unknown {
    let result: unknown;
    const commands = splitOutside(pipe, /\|/).map((c) => splitOutside(c.trim(), /\s/).filter(Boolean));
    commands.forEach((words, i) => {
      const [head, ...rest] = words;
      if (!head) throw new TemplateError(`empty command in "${pipe}"`);
      const fn = FUNCS[head];
      const args = rest.map((w) => value(w, scope));
      if (i > 0) {
        if (!fn) throw new TemplateError(`"${head}" is not a function (in "${pipe}")`);
        args.push(result);
      }
      if (fn) result = fn(args, scope);
      else if (rest.length > 0) throw new TemplateError(`"${head}" is not a function (in "${pipe}")`);
      else result = value(head, scope);
    });
    return result;
  }

  function run(nodes: Node[], scope: Scope): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'out') {
        const v = pipeline(n.pipe, scope);
        if (v !== null && typeof v === 'object')
          throw new TemplateError(`{{ ${n.pipe} }} is a map or list: pipe it through toYaml`);
        out += v === null || v === undefined ? '' : String(v);
      } else if (n.kind === 'if') out += run(truthy(pipeline(n.pipe, scope)) ? n.yes : n.no, scope);
      else {
        const list = pipeline(n.pipe, scope);
        if (list !== null && !Array.isArray(list))
          throw new TemplateError(`range over a non-list: ${n.pipe}`);
        for (const item of list ?? []) out += run(n.body, { dot: item, root: scope.root });
      }
    }
    return out;
  }

  const chart = YAML.parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
  const defaults = YAML.parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;

  return {
    /** `helm template <release> <chart> -n <namespace> [-f valuesFile]`: every manifest, parsed. */
    render(opts: { release: string; namespace: string; valuesFile?: string }): Manifest[] {
      const override = opts.valuesFile
        ? (YAML.parse(readFileSync(opts.valuesFile, 'utf8')) as Record<string, unknown>)
        : {};
      const root = {
        Values: coalesce(defaults, override),
        Release: { Name: opts.release, Namespace: opts.namespace, Service: 'Helm' },
        Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
      };
      const manifests: Manifest[] = [];
      for (const [file, nodes] of templates) {
        const text = run(nodes, { dot: root, root });
        for (const doc of text.split(/^---\s*$/m)) {
          const parsed = YAML.parse(doc, { strict: true, uniqueKeys: true }) as Manifest | null;
          if (parsed === null) continue;
          if (typeof parsed !== 'object') throw new TemplateError(`${file}: rendered a non-object document`);
          manifests.push(parsed);
        }
      }
      return manifests;
    },
  };
}

function indentLines(s: string, n: number): string {
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Helm's values coalescing: maps merge key by key, anything else (lists too) is replaced. */
function coalesce(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? coalesce(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
