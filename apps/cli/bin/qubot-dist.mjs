#!/usr/bin/env -S node --conditions=qubot-dist
// The built CLI (`pnpm build` → dist/): plain node, no tsx, as the container image runs it.
// The `qubot-dist` condition resolves @qubot/client and @qubot/api-contract to their dist/ too.
const { main } = await import(new URL('../dist/main.js', import.meta.url).href);
await main();
