import { createRequire } from 'node:module';
import { AuditEntry, Deployment, ListOf, Release } from '@qubot/api-contract';
import { describe, expect, it } from 'vitest';
import { deploymentFixture, settleFirstAnalysis } from '../views/view-fixtures.ts';
import { buildSerialiser, flattenScalarUnions } from './fast-serialiser.ts';

// Fastify's own serialiser: fast-json-stringify on the schema as the route declares it.
const fjs = createRequire(import.meta.resolve('fastify'))('fast-json-stringify') as (
  schema: unknown,
  opts?: { mode?: 'debug' },
) => ((v: unknown) => string) & { code?: string };
const validators = (schema: unknown) =>
  new Set(
    (fjs(schema, { mode: 'debug' }) as unknown as { code: string }).code.match(
      /getSchemaValidator\([^)]*\)/g,
    ),
  ).size;

describe('[API] response serialiser', () => {
  it('writes a deployment page without a validator per value', () => {
    expect(validators(ListOf(Deployment))).toBeGreaterThan(40);
    expect(validators(flattenScalarUnions(ListOf(Deployment)))).toBe(0);
    expect(validators(flattenScalarUnions(ListOf(AuditEntry)))).toBe(0);
    // A release's test results are an object or null: that branch stays.
    expect(validators(flattenScalarUnions(ListOf(Release)))).toBe(2);
  });

  it('writes the same bytes as the schema as declared, for deployments the core produces', () => {
    const items = [
      deploymentFixture({
        input: { strategy: 'canary', version: '1.1.0', fromVersion: '1.0.0' },
        drive: settleFirstAnalysis,
      }),
      deploymentFixture({
        input: { strategy: 'blue-green', version: '2.0.0', fromVersion: null, activeColor: null },
        drive: (s) => s.start().run(),
        reason: 'a "quoted"\nreason ✓',
        kind: 'rollback',
        traffic: { requests: 9_007_199_254_740_991, failed: 0 },
      }),
      deploymentFixture({
        input: {
          strategy: 'rolling',
          version: '1.1.0',
          fromVersion: '1.0.0',
          requiresApproval: true,
          protected: true,
        },
        drive: (s) => s.start().run({ timers: false }),
      }),
      deploymentFixture({ input: { strategy: 'rolling', version: '1.1.0', fromVersion: '1.0.0' } }),
    ];
    for (const page of [
      { items, nextCursor: 'abc' },
      { items: [], nextCursor: null },
    ]) {
      const declared = fjs(ListOf(Deployment))(page);
      expect(buildSerialiser()({ schema: ListOf(Deployment) })(page)).toBe(declared);
      expect(JSON.parse(declared)).toEqual(page);
    }
  });

  it('leaves unions it cannot write as one type array', () => {
    const mixed = { anyOf: [{ type: 'integer' }, { type: 'number' }] };
    const object = { anyOf: [{ type: 'object', properties: {} }, { type: 'null' }] };
    const formats = { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'string' }] };
    for (const s of [mixed, object, formats]) expect(flattenScalarUnions(s)).toEqual(s);
    expect(
      flattenScalarUnions({ anyOf: [{ anyOf: [{ const: 'blue' }, { const: 'green' }] }, { type: 'null' }] }),
    ).toEqual({ type: ['string', 'null'] });
  });
});
