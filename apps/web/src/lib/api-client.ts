// The one way the dashboard talks to the Fleetwatch HTTP API. Failures are thrown as typed
// errors: ApiRequestError when the server answered with an error status (carrying the API's
// error body when it sent one), NetworkError when no answer arrived at all.
import type { ApiError as ApiErrorBody } from "@fleetwatch/contracts";
import { env } from "../config/env.ts";

/** The server answered with a status the caller did not accept. */
export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";

  constructor(
    readonly status: number,
    /** The API's error body, when the response carried one. */
    readonly body: ApiErrorBody | undefined,
  ) {
    super(body?.message ?? `The server answered ${status}`);
  }
}

/** No HTTP answer: the server is down, unreachable, or the connection broke. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";

  constructor(options?: ErrorOptions) {
    super("Could not reach the Fleetwatch server", options);
  }
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Sent as JSON. */
  json?: unknown;
  signal?: AbortSignal;
  /**
   * Statuses besides 2xx whose body is the answer rather than an error, for endpoints
   * that report a state through their status code (GET /readyz answers 503 with a body).
   */
  acceptStatuses?: readonly number[];
}

function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body.statusCode === "number" && typeof body.error === "string" && typeof body.message === "string";
}

async function readJson(response: Response): Promise<unknown> {
  if (response.status === 204 || !response.headers.get("content-type")?.includes("application/json")) return undefined;
  return response.json();
}

export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", json, signal, acceptStatuses = [] } = options;
  const headers: Record<string, string> = { accept: "application/json" };
  if (json !== undefined) headers["content-type"] = "application/json";

  let response: Response;
  try {
    response = await fetch(`${env.apiUrl}${path}`, {
      method,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    // A cancelled request is not a failure: let the caller (react-query) see the abort.
    if (signal?.aborted) throw error;
    throw new NetworkError({ cause: error });
  }

  if (response.ok || acceptStatuses.includes(response.status)) return (await readJson(response)) as T;

  const body = await readJson(response).catch(() => undefined);
  throw new ApiRequestError(response.status, isApiErrorBody(body) ? body : undefined);
}

export const api = {
  get: <T>(path: string, options?: Omit<RequestOptions, "method" | "json">) => apiRequest<T>(path, { ...options, method: "GET" }),
};

/** A sentence for people, for any error a query or mutation can end with. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError || error instanceof NetworkError) return error.message;
  return "Something went wrong";
}
