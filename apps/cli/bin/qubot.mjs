#!/usr/bin/env node
// The CLI is TypeScript run through tsx (no build step); resolved from this file so any cwd works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/main.ts', import.meta.url).href);
await main();
