// Sign-in timing: does a wrong password for an existing account take as long as any password for
// a name that does not exist? (docs/security.md "Passwords, sign-in limits"). The API runs in this
// process on an embedded PostgreSQL; each attempt comes from its own address (app.inject
// remoteAddress) so the throttle never answers 429 instead. Known and unknown attempts are
// interleaved so drift hits both alike. The noise floor, measured in the same run, is the
// difference between two halves of the *same* kind of attempt (known vs known).
//
//   node --import tsx bench/login-timing.ts [--n 200]
import { join } from 'node:path';
import { openDatabase, removeEmbeddedData } from '@qubot/db';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

async function main() {
  const n = arg('n', 200);
  const dataDir = join(process.cwd(), '.qubot-bench', `login-timing-${process.pid}`);
  removeEmbeddedData(dataDir);
  const db = await openDatabase({ dataDir });
  const { buildApp } = await import('../apps/api/src/app.ts');
  const { seedDemoUsers } = await import('../apps/api/src/services/user-service.ts');
  await seedDemoUsers(db);
  // The per-account limit (100 failures) would otherwise refuse the known user after a while.
  const app = await buildApp({
    db,
    loginRateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
    auth: { maxFailedLoginsPerAccount: 1_000_000 },
  });
  await app.ready();
  try {
    let seq = 0;
    const attempt = async (username: string) => {
      seq++;
      const remoteAddress = `10.${(seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}`;
      const t0 = process.hrtime.bigint();
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: `wrong-password-${seq}` },
        remoteAddress,
      });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 401) throw new Error(`expected 401, got ${res.statusCode} ${res.body}`);
      return { ms, body: res.json().error };
    };
    // Warm-up: argon2, the database pool and the JIT.
    for (let i = 0; i < 10; i++) {
      await attempt('viewer');
      await attempt(`ghost-${i}`);
    }
    const known: number[] = [];
    const unknown: number[] = [];
    const bodies = new Set<string>();
    for (let i = 0; i < n; i++) {
      // Alternate which goes first, so neither always follows the other.
      const pair =
        i % 2
          ? [await attempt('viewer'), await attempt(`nobody-${i}`)]
          : [await attempt(`nobody-${i}`), await attempt('viewer')].reverse();
      known.push((pair[0] as { ms: number }).ms);
      unknown.push((pair[1] as { ms: number }).ms);
      for (const p of pair) bodies.add(JSON.stringify(p.body));
    }
    const knownA = known.filter((_, i) => i % 2 === 0);
    const knownB = known.filter((_, i) => i % 2 === 1);
    const row = (name: string, xs: number[]) => ({
      attempts: name,
      n: xs.length,
      'p50 ms': median(xs).toFixed(1),
      'p90 ms': pct(xs, 90).toFixed(1),
      'mean ms': (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1),
    });
    console.log(`\nSign-in timing: wrong password (known user) vs unknown user, ${n} each, interleaved\n`);
    console.table([row('known user, wrong password', known), row('unknown user', unknown)]);
    const diff = median(known) - median(unknown);
    const noise = Math.abs(median(knownA) - median(knownB));
    console.log(`median difference known − unknown: ${diff.toFixed(2)} ms`);
    console.log(`noise floor (known half A vs half B, same run): ${noise.toFixed(2)} ms`);
    console.log(`distinct answers: ${bodies.size} (${[...bodies].join(' ')})`);
    console.log(`\nReproduce: node --import tsx bench/login-timing.ts --n ${n}`);
    if (bodies.size !== 1) process.exitCode = 1;
  } finally {
    await app.close();
    await db.shutdown();
    removeEmbeddedData(dataDir);
  }
}

await main();
