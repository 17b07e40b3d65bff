// For transaction-queries.test.ts: reads the environment view inside one interactive transaction
// in a process of its own, so the test reads pg's once-per-process warning on this process's stderr
// (and the test run's output stays free of it). `bare`: Prisma's own pg adapter; `ours`:
// createDatabase's client, which takes the transaction's statements in turn.
import { PrismaPg } from '@prisma/adapter-pg';
import { createDatabase } from '../src/client.ts';
import { PrismaClient } from '../src/generated/client.ts';
import { createEnvironmentRepo } from '../src/repos/environment-repo.ts';

const [mode, url, applicationId] = process.argv.slice(2);
if ((mode !== 'bare' && mode !== 'ours') || !url || !applicationId)
  throw new Error('usage: transaction-queries-child bare|ours URL APPLICATION_ID');
const db = createDatabase(url, { max: 2 });
const prisma = mode === 'bare' ? new PrismaClient({ adapter: new PrismaPg(db.pool) }) : db.prisma;
const view = await prisma.$transaction((tx) =>
  createEnvironmentRepo(prisma).findView(applicationId, 'staging', tx),
);
process.stdout.write(`${JSON.stringify({ environment: view?.name ?? null })}\n`);
if (mode === 'bare') await prisma.$disconnect();
await db.close();
