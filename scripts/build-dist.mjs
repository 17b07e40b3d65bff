// `node scripts/build-dist.mjs`: build the production JavaScript (dist/) if any package's sources
// are newer than it. Used by `npm test` and by the tests that start the built control plane.
import { ensureDistBuilt, pnpmCommand } from './lib.mjs';

ensureDistBuilt(pnpmCommand());
