import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

// Unknown fields are rejected (additionalProperties: false), never silently
// dropped. JSON bodies keep their types ("3" is not 3); query strings and path
// parameters arrive as text, so those are coerced.
const common: Options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false };
const bodyAjv = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
const textAjv = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }));

export const validatorCompiler: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);
