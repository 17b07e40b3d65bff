import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Every run starts from an empty data directory (fresh database, no instances). */
export default function globalSetup() {
  if (!process.env.QUBOT_E2E_DATA_DIR)
    rmSync(join(import.meta.dirname, '..', '.qubot-test', 'e2e-data'), { recursive: true, force: true });
}
