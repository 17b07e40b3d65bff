// The app's response serialiser (app.ts: Fastify's `schemaController.compilersFactory.buildSerializer`,
// so every route with a response schema, and `reply.serialize`, goes through it).
// fast-json-stringify picks an `anyOf` branch by running a validator per branch on every value: a
// deployment item has ~20 such fields (`kind`, `status`, `strategy`, `waitingFor`, nullable strings
// and numbers, the progress' colour…), so a history page of 50 ran some 1,500 validators to write
// strings it would have written the same way anyway (bench/README.md "History at scale"). Here,
// an `anyOf` of scalar branches — string literals, plain strings, integers, numbers, booleans,
// null — is compiled as one JSON Schema type array, which it writes without a check. The route's
// schema (validation, the OpenAPI document) is left as it is; only the serialiser's copy changes,
// and the bytes written are the same for every value the schema allows (serialiser-bytes.test.ts
// compares them with Fastify's default serialiser for every route, history-bytes.test.ts with
// recorded pages).
import fastJson from 'fast-json-stringify';

type Json = Record<string, unknown>;
const SCALARS = new Set(['string', 'integer', 'number', 'boolean', 'null']);
// Keywords that describe a branch without changing how a value of its type is written.
const NOTES = new Set(['description', 'title', 'examples', 'default', '$comment']);

/** The JSON type an `anyOf` branch writes, with its format; null when it is not a plain scalar. */
function scalar(branch: unknown): { types: string[]; format?: string } | null {
  if (!branch || typeof branch !== 'object' || Array.isArray(branch)) return null;
  const b = branch as Json;
  let format: string | undefined;
  for (const k of Object.keys(b)) {
    if (k === 'type' || k === 'const' || NOTES.has(k)) continue;
    if (k === 'format' && typeof b.format === 'string') format = b.format;
    else return null;
  }
  if ('const' in b) {
    // A string literal; other literals keep their branch.
    if (typeof b.const !== 'string' || (b.type !== undefined && b.type !== 'string')) return null;
    return { types: ['string'] };
  }
  const types = Array.isArray(b.type) ? b.type : [b.type];
  if (!types.every((t) => typeof t === 'string' && SCALARS.has(t))) return null;
  return { types: types as string[], ...(format ? { format } : {}) };
}

/** `anyOf` of scalars as one type array, or null when the branches cannot be merged. */
function merged(anyOf: unknown[]): Json | null {
  const types = new Set<string>();
  let format: string | undefined;
  for (const branch of anyOf) {
    const s = scalar(branch);
    if (!s) return null;
    for (const t of s.types) types.add(t);
    if (s.format) {
      if (format !== undefined && format !== s.format) return null;
      format = s.format;
    }
  }
  // One number type only: an integer branch writes a value differently from a number branch.
  if (types.has('integer') && types.has('number')) return null;
  // A format applies to strings: with two string branches, one without it, they differ.
  if (format && anyOf.filter((b) => scalar(b)?.types.includes('string')).length > 1) return null;
  return { type: [...types], ...(format ? { format } : {}) };
}

/** A copy of `schema` with every mergeable `anyOf` of scalars written as a type array. */
export function flattenScalarUnions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(flattenScalarUnions);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = flattenScalarUnions(v);
  if (Array.isArray(out.anyOf)) {
    // Nested unions (a union of a union and null) were flattened first: merge their branches.
    const branches = out.anyOf.flatMap((b) =>
      b && typeof b === 'object' && Array.isArray((b as Json).anyOf) ? ((b as Json).anyOf as unknown[]) : [b],
    );
    const m = merged(branches);
    if (m) {
      delete out.anyOf;
      Object.assign(out, m);
    }
  }
  return out;
}

type Options = NonNullable<Parameters<typeof fastJson>[1]>;
type Compile = (route: { schema?: unknown }) => (data: unknown) => string;

/**
 * Fastify's `compilersFactory.buildSerializer`: fast-json-stringify, called as Fastify's default
 * (@fastify/fast-json-stringify-compiler) calls it — the shared schemas (`app.addSchema`) passed
 * for `$ref`s, but the compiled schema's own `$id` — on flattened copies of the schemas.
 */
export function buildSerialiser(externalSchemas?: unknown, serializerOpts?: Options): Compile {
  const shared = Object.fromEntries(
    Object.entries((externalSchemas ?? {}) as Json).map(([id, schema]) => [id, flattenScalarUnions(schema)]),
  );
  return ({ schema }) => {
    const id = (schema as { $id?: unknown } | undefined)?.$id;
    const others = typeof id === 'string' && id in shared ? { ...shared } : shared;
    if (others !== shared) delete others[id as string];
    return fastJson(flattenScalarUnions(schema) as Parameters<typeof fastJson>[0], {
      ...serializerOpts,
      schema: others as Options['schema'],
    }) as (data: unknown) => string;
  };
}
