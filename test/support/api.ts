// HTTP helpers for tests: sign in, API tokens and device registration against a real server.
import type { DeviceWithCredentials } from "../../packages/contracts/src/index.ts";
import { testAdmin } from "./fleetwatch.ts";

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** fetch with JSON in and out; `token` becomes a Bearer header. */
export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** Signs in and returns the session cookie and CSRF token. */
export async function login(
  baseUrl: string,
  email = testAdmin.email,
  password = testAdmin.password,
): Promise<{ cookie: string; csrfToken: string }> {
  const reply = await call(baseUrl, "POST", "/api/auth/login", { body: { email, password } });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  const cookie = (reply.headers.get("set-cookie") ?? "").split(";")[0] as string;
  return { cookie, csrfToken: reply.body.csrfToken };
}

/** A new API token for the given operator (the test admin by default). */
export async function apiToken(baseUrl: string, email = testAdmin.email, password = testAdmin.password): Promise<string> {
  const { cookie, csrfToken } = await login(baseUrl, email, password);
  const reply = await call(baseUrl, "POST", "/api/tokens", { body: { name: "tests" }, headers: { cookie, "x-csrf-token": csrfToken } });
  if (reply.status !== 201) throw new Error(`token creation failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.token;
}

export async function registerDevice(
  baseUrl: string,
  token: string,
  body: { name: string; id?: string; tags?: string[] },
): Promise<DeviceWithCredentials> {
  const reply = await call<DeviceWithCredentials>(baseUrl, "POST", "/api/devices", { token, body });
  if (reply.status !== 201) throw new Error(`device registration failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}
