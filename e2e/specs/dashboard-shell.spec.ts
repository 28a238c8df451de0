import type { Page } from "@playwright/test";
import { admin, signInAs } from "../support/accounts.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const systemStatus = (page: Page) => page.getByRole("region", { name: "System status" });
const checkRow = (page: Page, label: string) => systemStatus(page).locator(".checks__row").filter({ hasText: label });

test.beforeEach(async ({ page }) => signInAs(page, admin));

test("the fleet overview shows the product shell and a ready database and broker", async ({ page }) => {
  await page.goto("/");

  await expect(page).toHaveTitle("Fleet overview · Fleetwatch");
  await expect(page.getByRole("banner").getByRole("link", { name: "Fleetwatch" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Fleet overview" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  await expect(page.getByRole("main").getByRole("heading", { level: 1 })).toHaveText("Fleet overview");

  await expect(systemStatus(page).getByRole("status")).toHaveText("Ready");
  await expect(checkRow(page, "Database")).toContainText("OK");
  await expect(checkRow(page, "MQTT broker")).toContainText("OK");
  await expect(checkRow(page, "Message storage")).toContainText("OK");

  await page.screenshot({ path: artifact("fleet-overview.png"), fullPage: true });
});

test("a 503 from /readyz is shown as data: unavailable, with the failing check's detail", async ({ page }) => {
  await page.route("**/readyz", (route) =>
    route.fulfill({
      status: 503,
      json: {
        status: "unavailable",
        checks: {
          database: { ok: false, detail: "the database did not answer" },
          broker: { ok: true },
          ingest: { ok: false, detail: "the oldest message waiting to be stored has waited 31 s (INGEST_STUCK_AFTER_MS: 30000)" },
        },
      },
    }),
  );
  await page.goto("/");

  await expect(systemStatus(page).getByRole("status")).toHaveText("Unavailable");
  await expect(checkRow(page, "Database")).toContainText("Failing");
  await expect(checkRow(page, "Database")).toContainText("the database did not answer");
  await expect(checkRow(page, "MQTT broker")).toContainText("OK");
  await expect(checkRow(page, "Message storage")).toContainText("waited 31 s");
  await expect(systemStatus(page).getByRole("alert")).toHaveCount(0);

  await page.screenshot({ path: artifact("fleet-overview-unavailable.png"), fullPage: true });
});

test("an unreachable server shows an error with a way to retry", async ({ page }) => {
  await page.route("**/readyz", (route) => route.abort("connectionrefused"));
  await page.goto("/");

  await expect(systemStatus(page).getByRole("alert")).toContainText("Could not reach the Fleetwatch server");

  await page.unroute("**/readyz");
  await systemStatus(page).getByRole("button", { name: "Try again" }).click();
  await expect(systemStatus(page).getByRole("status")).toHaveText("Ready");
});

test("an unknown address renders the dashboard's not-found page, not a server error", async ({ page }) => {
  const response = await page.goto("/no/such/page");

  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Go to the fleet overview" }).click();
  await expect(page).toHaveURL("/");
});

test("the dashboard's files are served compressed, and hashed assets are cached for good", async ({ page }) => {
  const response = await page.goto("/");
  expect(response?.headers()["cache-control"]).toBe("no-cache");
  const entry = await page.locator('script[type="module"][src^="/assets/"]').getAttribute("src");
  expect(entry).toBeTruthy();

  const brotli = await page.request.get(entry as string, { headers: { "accept-encoding": "br" } });
  expect(brotli.status()).toBe(200);
  expect(brotli.headers()["content-encoding"]).toBe("br");
  expect(brotli.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  const gzip = await page.request.get(entry as string, { headers: { "accept-encoding": "gzip" } });
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  // Decompressed, both are the same script.
  expect((await brotli.body()).equals(await gzip.body())).toBe(true);
});

/**
 * The API paths the page asked for before the session check answered, in the order the
 * browser sent them (Playwright reports the browser's network events in order).
 */
async function requestedBeforeSession(page: Page, path: string, shown: () => Promise<void>): Promise<string[]> {
  const sent: string[] = [];
  let beforeSession: string[] | undefined;
  page.on("request", (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith("/api/")) sent.push(pathname);
  });
  page.on("response", (response) => {
    if (new URL(response.url()).pathname === "/api/auth/me") beforeSession ??= [...sent];
  });
  await page.goto(path);
  await shown();
  expect(beforeSession).toBeDefined();
  return beforeSession!;
}

test("a page's own requests go out with the session check, not after its answer (app/preload.ts)", async ({ page }) => {
  const overview = await requestedBeforeSession(page, "/", () => expect(page.getByTestId("fleet-pulse")).toBeVisible());
  expect(overview).toEqual(expect.arrayContaining(["/api/auth/me", "/api/fleet/summary", "/api/fleet/pulse", "/api/devices"]));

  const me = (await (await page.request.get("/api/auth/me")).json()) as { csrfToken: string };
  const created = await page.request.post("/api/dashboards", {
    data: { name: "Preloaded", widgets: [] },
    headers: { "x-csrf-token": me.csrfToken },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const dashboard = await requestedBeforeSession(page, `/dashboards/${id}`, () =>
    expect(page.getByRole("heading", { level: 1, name: "Preloaded" })).toBeVisible(),
  );
  expect(dashboard).toEqual(expect.arrayContaining(["/api/auth/me", `/api/dashboards/${id}`]));
});
