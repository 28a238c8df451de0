// The one way to answer an error. Services (and request hooks) throw an ApiProblem, and
// handleError, the only error handler, sends it with the ApiError contract
// ({statusCode, error, message, code?}), which every route declares for its error statuses
// (apiErrors in api.ts). Routes never catch an error to reshape it, and never build an error
// body of their own.
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

export class ApiProblem extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly code?: string,
    readonly extra: Record<string, unknown> = {},
    /** Response headers that belong to the problem (Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiProblem";
  }
}

export const badRequest = (message: string, code = "BAD_REQUEST", extra?: Record<string, unknown>) =>
  new ApiProblem(400, message, code, extra);
export const unauthorized = (message = "Sign in or send an API token (Authorization: Bearer ...)") =>
  new ApiProblem(401, message, "UNAUTHORIZED");
export const forbidden = (message: string, code = "FORBIDDEN") => new ApiProblem(403, message, code);
export const notFound = (message: string) => new ApiProblem(404, message, "NOT_FOUND");
export const conflict = (message: string, code = "CONFLICT", extra?: Record<string, unknown>) => new ApiProblem(409, message, code, extra);
export const tooManyRequests = (message: string, retryAfterS?: number) =>
  new ApiProblem(429, message, "TOO_MANY_REQUESTS", {}, retryAfterS === undefined ? {} : { "retry-after": String(retryAfterS) });

export function errorBody(statusCode: number, message: string, code?: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? "Error", message, ...(code ? { code } : {}) };
}

/**
 * Every error leaves as JSON with a 4xx for anything the client did (bad JSON, schema
 * violations naming the field, oversized bodies) and a 500 only for our own faults, whose
 * details stay in the log.
 */
export function handleError(error: FastifyError | ApiProblem, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ApiProblem)
    return reply
      .code(error.statusCode)
      .headers(error.headers)
      .send({ ...errorBody(error.statusCode, error.message, error.code), ...error.extra });
  const fastifyError = error;
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const field = first
      ? `${fastifyError.validationContext ?? "body"}${first.instancePath || ""}`.replace(/^(\w+)\//, "$1.").replaceAll("/", ".")
      : (fastifyError.validationContext ?? "body");
    const missing = first?.params as { requiredProperties?: string[]; missingProperty?: string } | undefined;
    const missingName = missing?.requiredProperties?.[0] ?? missing?.missingProperty;
    const fieldName = missingName ? `${field}.${missingName}` : field;
    return reply.code(400).send(errorBody(400, `${fieldName}: ${first?.message ?? "is invalid"}`, "VALIDATION_FAILED"));
  }
  const statusCode = fastifyError.statusCode ?? 500;
  if (statusCode >= 400 && statusCode < 500)
    return reply.code(statusCode).send(errorBody(statusCode, fastifyError.message, fastifyError.code));
  request.log.error({ err: error }, "request failed");
  return reply.code(500).send(errorBody(500, "Internal server error"));
}
