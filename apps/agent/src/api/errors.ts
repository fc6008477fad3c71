import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { AgentError, AgentErrorCode } from '../errors.js';

/** Every failed call answers `{"error": {"code", "message"}}`; the client and the CLI read `message`. */
export const ErrorResponseSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

/** The error answers a route can give, for its `response` schema. */
export const ERROR_RESPONSES = { '4xx': ErrorResponseSchema, '5xx': ErrorResponseSchema } as const;

const STATUS_OF: Partial<Record<string, number>> = {
  [AgentErrorCode.NOT_FOUND]: 404,
  [AgentErrorCode.BAD_REQUEST]: 400,
  [AgentErrorCode.STORE_UNAVAILABLE]: 503,
};

export function statusOf(code: string): number {
  return STATUS_OF[code] ?? 500;
}

/** Where a failing value sits, as a caller writes it: `last` (query), `body.enabled` (body). */
function fieldName(error: FastifySchemaValidationError, dataVar: string): string {
  const path = error.instancePath.split('/').filter((p) => p !== '');
  if (error.keyword === 'required') path.push(String(error.params['missingProperty']));
  if (dataVar === 'body') return ['body', ...path].join('.');
  return path.length > 0 ? path.join('.') : dataVar;
}

/** What a schema accepts, from its `description` (every route schema states one). */
function acceptedBy(schema: unknown): string | undefined {
  const description = (schema as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' ? description : undefined;
}

/**
 * Turns the first schema violation into the agent's wording: the field, the value given and what
 * is accepted, e.g. `last "x" is not valid; accepted: an integer from 0 to 9999999`.
 * Needs ajv's `verbose` (the failing value and schema on each error).
 */
export function describeValidationError(errors: FastifySchemaValidationError[], dataVar: string): AgentError {
  const [first] = errors;
  if (!first) return new AgentError(AgentErrorCode.BAD_REQUEST, `${dataVar} is not valid`);
  const verbose = first as FastifySchemaValidationError & { data?: unknown; parentSchema?: unknown };
  const field = fieldName(first, dataVar);
  let schema = verbose.parentSchema;
  if (first.keyword === 'required') {
    const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
    schema = properties?.[String(first.params['missingProperty'])];
  }
  const accepted = acceptedBy(schema) ?? first.message ?? 'see the schema';
  // fastify hands a request without a body to the schema as null
  const absent = verbose.data === undefined || (verbose.data === null && first.instancePath === '');
  const given =
    first.keyword === 'required' || absent ? 'is missing' : `${JSON.stringify(verbose.data)} is not valid`;
  return new AgentError(AgentErrorCode.BAD_REQUEST, `${field} ${given}; accepted: ${accepted}`);
}

/**
 * Failures keep the hand-rolled API's shape and status codes: AgentError codes map to 404/400/503,
 * fastify's own 4xx (body too large) become BAD_REQUEST, anything else is a 500
 * COMMAND_FAILED carrying the message. Unknown routes list the accepted ones.
 */
export function installErrorHandlers(app: FastifyInstance, routes: () => string[]): void {
  app.setErrorHandler((err: FastifyError | AgentError | Error, _request, reply) => {
    if (err instanceof AgentError) {
      return reply.code(statusOf(err.code)).send({ error: { code: err.code, message: err.message } });
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: AgentErrorCode.BAD_REQUEST, message: err.message } });
    return reply.code(500).send({ error: { code: AgentErrorCode.COMMAND_FAILED, message: err.message } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: AgentErrorCode.NOT_FOUND,
        message: `no route ${request.method} ${request.url.split('?')[0]}; accepted: ${routes().join(', ')}`,
      },
    }),
  );
}
