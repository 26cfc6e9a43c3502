// One error shape for every route: { error, message, statusCode }. Client mistakes get a 4xx that
// says what is wrong; anything else is logged and answered 500 without its details.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { StoreUnavailableError } from '../store/unavailable.js';

export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'short name of the status' }),
    message: Type.String({ description: 'what went wrong, for a person' }),
  },
  { $id: 'Error' },
);

/** A client error raised by a handler: the status and a message that says what to fix. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}


export function errorBody(statusCode: number, message: string): { statusCode: number; error: string; message: string } {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export function errorHandler(error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  // A deliberate 5xx (503 while shutting down or at a cap) says what it is; anything else is a bug.
  if ((error instanceof HttpError || error instanceof StoreUnavailableError) && status >= 500) {
    void reply.code(status).send(errorBody(status, error.message));
    return;
  }
  if (status >= 500) {
    request.log.error({ err: error, url: request.url }, 'request failed');
    void reply.code(500).send(errorBody(500, 'internal error; see the server log'));
    return;
  }
  const message = 'validation' in error && error.validation ? `invalid ${error.validationContext ?? 'request'}: ${validationMessage(error)}` : error.message;
  void reply.code(status).send(errorBody(status, message));
}

/** Ajv's message, plus the accepted values when a value is not one of them (ajv names none). */
function validationMessage(error: FastifyError): string {
  const allowed = error.validation?.find((v) => v.keyword === 'enum')?.params.allowedValues;
  return Array.isArray(allowed) ? `${error.message} (${allowed.join(', ')})` : error.message;
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0]}`));
}
