// The audit actions in @qubot/api-contract are the one list of what the server writes: every
// action string the server's code gives an audit entry is in it, and every entry of it is written
// somewhere (the dashboard's action filter offers only real actions).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AUDIT_ACTION_PREFIXES,
  AUDIT_ACTIONS,
  DeploymentActionName,
  isAuditAction,
} from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Dotted string literals on the right of `action:` / `auditAction:` (ternaries included). */
function writtenActions(): Set<string> {
  const found = new Set<string>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\b(?:action|auditAction):\s*([^,;\n}]+)/g)) {
      for (const lit of m[1]!.matchAll(/'([a-z_]+(?:\.[a-z_]+)+)'/g)) found.add(lit[1]!);
      // `deployment.${action}` of the deployment controls.
      if (m[1]!.trim().startsWith('`deployment.$'))
        for (const a of DeploymentActionName.anyOf) found.add(`deployment.${a.const}`);
    }
  }
  return found;
}

describe('[AUDIT] the list of audit actions', () => {
  const written = writtenActions();

  it('finds the server writing audit entries (the scan works)', () => {
    expect(written.has('deployment.create')).toBe(true);
    expect(written.has('auth.login.failed')).toBe(true);
    expect(written.has('deployment.approve')).toBe(true);
    expect(written.size).toBeGreaterThan(20);
  });

  it('every action the server writes is in the contract list', () => {
    expect([...written].filter((a) => !isAuditAction(a)).sort()).toEqual([]);
  });

  it('every action in the list is written by the server', () => {
    expect(Object.keys(AUDIT_ACTIONS).filter((a) => !written.has(a))).toEqual([]);
  });

  it('every filter prefix matches at least one action', () => {
    for (const prefix of Object.keys(AUDIT_ACTION_PREFIXES))
      expect(
        Object.keys(AUDIT_ACTIONS).some((a) => a.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });
});
