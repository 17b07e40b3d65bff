// A response serialiser for the list routes that write the same item shape tens of times per
// page (history, audit, releases). fast-json-stringify picks an `anyOf` branch by running a
// validator per branch on every value: a deployment item has ~20 such fields (`kind`, `status`,
// `strategy`, `waitingFor`, nullable strings and numbers, the progress' colour…), so a page of
// 50 ran some 1,500 validators to write strings it would have written the same way anyway
// (bench/README.md "History at scale"). Here, an `anyOf` of scalar branches — string literals,
// plain strings, integers, numbers, booleans, null — is compiled as one JSON Schema type array,
// which it writes without a check. The route's schema (validation, the OpenAPI document) is left
// as it is; only the serialiser's copy changes, and the bytes written are the same for every
// value the schema allows (history-bytes.test.ts).
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

/**
 * A route's `serializerCompiler`: fast-json-stringify, as Fastify's default one calls it, on the
 * flattened copy of the response schema.
 */
export function fastListSerialiser({ schema }: { schema: unknown }): (data: unknown) => string {
  return fastJson(flattenScalarUnions(schema) as Parameters<typeof fastJson>[0]) as (data: unknown) => string;
}
