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

// Cookie-authenticated changes must carry the session's CSRF token (see the server's
// http/api.ts). The auth feature stores it here when it learns it (sign-in, GET /api/auth/me).
let csrfToken: string | null = null;
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

// A 401 on any request means the session ended (expired, signed out elsewhere). The auth
// feature registers what to do then (drop the cached session, which shows the sign-in page).
let onUnauthorized: (() => void) | undefined;
export function setUnauthorizedHandler(handler: (() => void) | undefined): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with its content type (CSV uploads); instead of `json`. */
  text?: { body: string; contentType: string };
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
  const { method = "GET", json, text, signal, acceptStatuses = [] } = options;
  const headers: Record<string, string> = { accept: "application/json" };
  if (json !== undefined) headers["content-type"] = "application/json";
  else if (text !== undefined) headers["content-type"] = text.contentType;
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;

  let response: Response;
  try {
    response = await fetch(`${env.apiUrl}${path}`, {
      method,
      headers,
      credentials: env.apiUrl ? "include" : "same-origin",
      ...(json !== undefined ? { body: JSON.stringify(json) } : text !== undefined ? { body: text.body } : {}),
      signal,
    });
  } catch (error) {
    // A cancelled request is not a failure: let the caller (react-query) see the abort.
    if (signal?.aborted) throw error;
    throw new NetworkError({ cause: error });
  }

  if (response.ok || acceptStatuses.includes(response.status)) return (await readJson(response)) as T;

  const body = await readJson(response).catch(() => undefined);
  if (response.status === 401) onUnauthorized?.();
  throw new ApiRequestError(response.status, isApiErrorBody(body) ? body : undefined);
}

type ReadOptions = Omit<RequestOptions, "method" | "json">;
type WriteOptions = Omit<RequestOptions, "method">;

export const api = {
  get: <T>(path: string, options?: ReadOptions) => apiRequest<T>(path, { ...options, method: "GET" }),
  post: <T>(path: string, json?: unknown, options?: WriteOptions) => apiRequest<T>(path, { ...options, method: "POST", json }),
  patch: <T>(path: string, json: unknown, options?: WriteOptions) => apiRequest<T>(path, { ...options, method: "PATCH", json }),
  put: <T>(path: string, json: unknown, options?: WriteOptions) => apiRequest<T>(path, { ...options, method: "PUT", json }),
  delete: <T = void>(path: string, options?: ReadOptions) => apiRequest<T>(path, { ...options, method: "DELETE" }),
};

/** The absolute URL of an API path, for links the browser follows itself (CSV downloads). */
export function apiUrl(path: string): string {
  return `${env.apiUrl}${path}`;
}

/** A query string from the defined values of `params` ("" when there are none). */
export function queryString(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A sentence for people, for any error a query or mutation can end with. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError || error instanceof NetworkError) return error.message;
  return "Something went wrong";
}
