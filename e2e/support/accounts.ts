// The operators the e2e run uses. Global setup starts the product with the admin below
// (ADMIN_EMAIL / ADMIN_PASSWORD), as an operator would on a first start.
import type { APIRequestContext, Page } from "@playwright/test";
import { expect } from "@playwright/test";

export const admin = { email: "admin@e2e.test", password: "e2e-admin-password" } as const;
export const viewer = { email: "viewer@e2e.test", password: "e2e-viewer-password" } as const;

export interface Account {
  email: string;
  password: string;
}

/** Signs `page`'s browser context in through the API (the sign-in form has its own spec). */
export async function signInAs(page: Page, account: Account): Promise<void> {
  const response = await page.request.post("/api/auth/login", { data: account });
  expect(response.status(), await response.text()).toBe(200);
}

/** The CSRF token of the context's session, for API calls a test makes as that operator. */
export async function csrfToken(request: APIRequestContext): Promise<string> {
  const response = await request.get("/api/auth/me");
  expect(response.status()).toBe(200);
  const body = (await response.json()) as { csrfToken: string };
  return body.csrfToken;
}

/** Creates the viewer account once per run (a 409 means an earlier spec made it). */
export async function ensureViewer(request: APIRequestContext, baseUrl: string): Promise<void> {
  const login = await request.post(`${baseUrl}/api/auth/login`, { data: admin });
  expect(login.status()).toBe(200);
  const { csrfToken: token } = (await login.json()) as { csrfToken: string };
  const created = await request.post(`${baseUrl}/api/users`, { data: { ...viewer, role: "viewer" }, headers: { "x-csrf-token": token } });
  expect([201, 409]).toContain(created.status());
}
