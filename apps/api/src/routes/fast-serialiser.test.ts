import { createRequire } from 'node:module';
import { AuditEntry, Deployment, ListOf, Release } from '@qubot/api-contract';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { deploymentFixture, settleFirstAnalysis } from '../views/view-fixtures.ts';
import { buildSerialiser, flattenScalarUnions } from './fast-serialiser.ts';

// Fastify's own serialiser: fast-json-stringify on the schema as the route declares it.
const fjs = createRequire(import.meta.resolve('fastify'))('fast-json-stringify') as (
  schema: unknown,
  opts?: { mode?: 'debug'; schema?: unknown },
) => ((v: unknown) => string) & { code?: string };
/** The validators the serialiser of `schema` (and the shared schemas it refers to) runs. */
const validators = (schema: unknown, shared: object = {}) =>
  new Set(
    (fjs(schema, { mode: 'debug', schema: shared }) as unknown as { code: string }).code.match(
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

  it('resolves $refs to shared schemas (app.addSchema) as Fastify does, and flattens them too', async () => {
    const answer = async (app: ReturnType<typeof Fastify>) => {
      app.addSchema({
        $id: 'Colour',
        anyOf: [{ type: 'string', const: 'blue' }, { type: 'string', const: 'green' }, { type: 'null' }],
      });
      app.addSchema({
        $id: 'Pool',
        type: 'object',
        properties: {
          colour: { $ref: 'Colour#' },
          weight: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
        },
      });
      app.get(
        '/pools',
        { schema: { response: { 200: { type: 'array', items: { $ref: 'Pool#' } } } } },
        async () => [
          { colour: 'blue', weight: 90, internal: 'x' },
          { colour: null, weight: null },
        ],
      );
      const res = await app.inject({ method: 'GET', url: '/pools' });
      await app.close();
      return res.body;
    };
    let shared: Record<string, unknown> = {};
    let compiled = 0;
    const ours = Fastify({
      schemaController: {
        compilersFactory: {
          buildSerializer: (external, opts) => {
            shared = external as Record<string, unknown>;
            const compile = buildSerialiser(external, opts);
            return (route) => {
              compiled++;
              return compile(route);
            };
          },
        },
      },
    });
    const body = await answer(ours);
    expect(Object.keys(shared).sort()).toEqual(['Colour', 'Pool']);
    expect(compiled).toBe(2); // GET /pools and its HEAD
    expect(body).toBe(await answer(Fastify()));
    expect(body).toBe('[{"colour":"blue","weight":90},{"colour":null,"weight":null}]');
    // The shared schemas are flattened as well: the colour's union ran a validator per pool.
    const pools = { type: 'array', items: { $ref: 'Pool#' } };
    expect(validators(pools, shared)).toBeGreaterThan(0);
    const debug = buildSerialiser(shared, { mode: 'debug' })({ schema: pools }) as unknown as {
      code: string;
    };
    expect(debug.code).toContain('Pool');
    expect(debug.code).not.toMatch(/getSchemaValidator/);
  });
});
