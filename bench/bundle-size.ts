// Web bundle size: what a browser downloads on the first load of the dashboard (index.html, its
// entry script, modulepreloaded chunks and stylesheets), gzip level 9 and brotli, against a budget;
// lazy chunks (route-level `import()`) are listed separately.
//
//   node --import tsx bench/bundle-size.ts [--budget-kb 200] [--dist apps/web/dist]
//
// Without --dist the web app is built from the current source into a temporary directory (so an
// old apps/web/dist cannot give stale figures and the real one is left alone).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: { 'budget-kb': { type: 'string', default: '200' }, dist: { type: 'string' } },
});
const budgetKb = Number(values['budget-kb']);
const ROOT = resolve(import.meta.dirname, '..');
const WEB = join(ROOT, 'apps/web');

interface Asset {
  file: string;
  kind: string;
  raw: number;
  gzip: number;
  brotli: number;
}

function measure(dist: string, file: string, kind: string): Asset {
  const data = readFileSync(join(dist, file));
  return {
    file,
    kind,
    raw: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }).length,
  };
}

/** Files the HTML makes the browser fetch before the app can run, in document order. */
function firstLoad(html: string): { file: string; kind: string }[] {
  const out: { file: string; kind: string }[] = [];
  const attr = (tag: string, name: string) => new RegExp(`\\s${name}=["']([^"']+)["']`, 'i').exec(tag)?.[1];
  for (const [tag] of html.matchAll(/<(script|link)\b[^>]*>/gi)) {
    const isScript = /^<script/i.test(tag);
    const rel = attr(tag, 'rel');
    const url = isScript ? attr(tag, 'src') : attr(tag, 'href');
    if (!url || /^(https?:)?\/\//.test(url)) continue;
    const kind = isScript ? 'entry script' : rel === 'modulepreload' ? 'preloaded chunk' : rel;
    if (kind === 'entry script' || kind === 'preloaded chunk' || kind === 'stylesheet')
      out.push({ file: url.replace(/^\//, ''), kind });
  }
  return out;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const row = (a: Pick<Asset, 'raw' | 'gzip' | 'brotli'> & { file: string; kind: string }) =>
  `| ${a.file} | ${a.kind} | ${kb(a.raw)} | ${kb(a.gzip)} | ${kb(a.brotli)} |`;
const sum = (list: Asset[], file: string, kind: string) => ({
  file,
  kind,
  raw: list.reduce((s, a) => s + a.raw, 0),
  gzip: list.reduce((s, a) => s + a.gzip, 0),
  brotli: list.reduce((s, a) => s + a.brotli, 0),
});

let dist = values.dist ? resolve(values.dist) : '';
let tmp = '';
try {
  if (!dist) {
    tmp = mkdtempSync(join(tmpdir(), 'qubot-bench-web-'));
    dist = tmp;
    const t0 = performance.now();
    const build = spawnSync(
      join(WEB, 'node_modules/.bin/vite'),
      ['build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: WEB, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (build.status !== 0) throw new Error(`vite build failed (exit ${build.status})`);
    console.log(`built apps/web in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const initial = firstLoad(html).map((f) => measure(dist, f.file, f.kind));
  const jsCss = initial.filter((a) => /\.(m?js|css)$/.test(a.file));
  const loaded = new Set(initial.map((a) => a.file));
  const assetsDir = join(dist, 'assets');
  const lazy = readdirSync(assetsDir)
    .map((f) => relative(dist, join(assetsDir, f)))
    .filter((f) => /\.(m?js|css)$/.test(f) && !loaded.has(f) && statSync(join(dist, f)).isFile())
    .map((f) => measure(dist, f, f.endsWith('.css') ? 'lazy stylesheet' : 'lazy chunk'))
    .sort((a, b) => b.gzip - a.gzip);
  const total = sum(jsCss, '**first load JS + CSS**', '');
  const page = measure(dist, 'index.html', 'document');

  console.log(`\nWeb bundle — apps/web production build (vite), gzip -9 and brotli -11\n`);
  console.log('| file | loaded as | raw | gzip | brotli |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  console.log(row(page));
  for (const a of jsCss) console.log(row(a));
  console.log(row(total));
  for (const a of lazy) console.log(row(a));
  if (lazy.length) console.log(row(sum(lazy, '**lazy, all routes**', '')));
  const within = total.gzip <= budgetKb * 1024;
  console.log(
    `\nfirst load: ${kb(total.gzip)} gzip (JS ${kb(jsCss.filter((a) => !a.file.endsWith('.css')).reduce((s, a) => s + a.gzip, 0))}, ` +
      `CSS ${kb(jsCss.filter((a) => a.file.endsWith('.css')).reduce((s, a) => s + a.gzip, 0))}) — ` +
      `budget ${budgetKb} kB gzip: ${within ? 'within' : 'OVER'} (${((100 * total.gzip) / (budgetKb * 1024)).toFixed(0)} %)`,
  );
  console.log(
    `reproduce: node --import tsx bench/bundle-size.ts --budget-kb ${budgetKb}${values.dist ? ` --dist ${values.dist}` : ''}`,
  );
  if (!within) process.exitCode = 1;
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
