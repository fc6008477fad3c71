// Every error answers {error: {code, message}}: a UiError with its own status, a schema
// violation as INVALID_ARGUMENT naming the field, anything else as 500.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { UiError } from '../errors.js';

export const ErrorResponseSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const ERROR_RESPONSES = {
  400: ErrorResponseSchema,
  502: ErrorResponseSchema,
  500: ErrorResponseSchema,
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof UiError) {
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const e = err as { validation?: unknown; statusCode?: number; message: string };
    if (e.validation) {
      return reply.code(400).send({ error: { code: 'INVALID_ARGUMENT', message: e.message } });
    }
    return reply
      .code(e.statusCode && e.statusCode >= 400 ? e.statusCode : 500)
      .send({ error: { code: 'INTERNAL', message: e.message } });
  });
}
