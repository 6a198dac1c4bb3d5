import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { ParleyError } from '@parley/protocol';

function describeFirstError(part: string, first: { instancePath: string; message: string; keyword?: string } | undefined): string {
  if (!first) return `${part} is invalid`;
  const where = first.instancePath || '/';
  // A closed schema reports an unknown property as "schema is false": say what it means.
  if (first.message === 'schema is false') return `${part} has an unknown field ${where}`;
  return `${part} ${where}: ${first.message}`;
}

/**
 * TypeBox does the validating, not Fastify's default Ajv set-up: Ajv there strips unknown
 * properties and coerces body types ("5" becomes 5), both of which would let bad input
 * through. Bodies are checked exactly as sent; only query strings and path parameters, which
 * are text by nature, are converted to the schema's types first.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    const value = convert ? Value.Convert(schema, data) : data;
    if (check.Check(value)) return { value };
    return { error: new ParleyError('VALIDATION_FAILED', describeFirstError(httpPart ?? 'input', check.Errors(value)[0])) };
  };
};
