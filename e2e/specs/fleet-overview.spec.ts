import type { APIRequestContext, Locator, Page } from "@playwright/test";
import type { FleetSummary } from "@fleetwatch/contracts";
import { admin, csrfToken, ensureViewer, signInAs, viewer } from "../support/accounts.ts";
import { connectDevice, dropConnection, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact, markDocument, expectSameDocument } from "../support/page.ts";
import { fleetDeviceRow, fleetDeviceRows, fleetDevicesTable } from "../support/locators.ts";
import { expect, test } from "../support/test.ts";

const main = (page: Page) => page.getByRole("main");
const filterBar = (page: Page) => page.getByRole("search", { name: "Filter devices" });
const count = (page: Page, tone: "online" | "offline" | "never" | "alerts") =>
  main(page).locator(`.fleet-count--${tone} .fleet-count__value`);

async function summary(request: APIRequestContext): Promise<FleetSummary> {
  const response = await request.get("/api/fleet/summary");
  expect(response.status()).toBe(200);
  return (await response.json()) as FleetSummary;
}

/**
 * The page's count equals the server's. Other specs share the product, so the expected
 * number is read from the API rather than assumed; the page never polls it, so a count
 * that follows a change can only have come through the live channel.
 */
async function expectCountToMatchServer(page: Page, locator: Locator, pick: (summary: FleetSummary) => number): Promise<void> {
  await expect(async () => {
    const expected = pick(await summary(page.request)).toLocaleString("en-US");
    await expect(locator).toHaveText(expected, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
}

test("the fleet table shows a device going online and offline live, and searches and filters by status and tag", async ({
  page,
  product,
}) => {
  test.setTimeout(90_000);
  await signInAs(page, admin);
  const prefix = uniqueDeviceId("fleet");
  const [sensor, gateway, spare] = [`${prefix}-sensor`, `${prefix}-gateway`, `${prefix}-spare`];
  const sensorLogin = await registerDevice(page, { id: sensor, tags: ["greenhouse", "e2e"] });
  await registerDevice(page, { id: gateway, tags: ["roof", "e2e"] });
  await registerDevice(page, { id: spare });

  await page.goto("/");
  await expect(page).toHaveTitle("Fleet overview · Fleetwatch");
  // A marker that a reload would wipe: every change below must arrive without one.
  await markDocument(page);
  await expect(main(page).getByRole("link", { name: "Register a device" })).toBeVisible();
  await expectCountToMatchServer(page, count(page, "never"), (s) => s.devices.neverSeen);

  // Search from the keyboard: type, and the table narrows to this spec's devices.
  await filterBar(page).getByRole("searchbox", { name: "Search" }).fill(prefix);
  await expect(page).toHaveURL(new RegExp(`[?&]q=${prefix}`));
  await expect(fleetDeviceRows(page)).toHaveCount(3);
  await expect(main(page).getByText("3 matching devices")).toBeVisible();
  for (const id of [sensor, gateway, spare]) await expect(fleetDeviceRow(page, id)).toContainText("Never seen");
  await expect(fleetDeviceRow(page, sensor)).toContainText("greenhouse");

  // A real MQTT client connects: the row turns online and the count follows, live.
  const client = await connectDevice(product.mqttPort, sensorLogin, { keepalive: 2 });
  try {
    await expect(fleetDeviceRow(page, sensor)).toContainText("Online", { timeout: 15_000 });
    await expect(fleetDeviceRow(page, sensor)).toContainText("Connected now");
    await expect(fleetDeviceRow(page, gateway)).toContainText("Never seen");
    await expectCountToMatchServer(page, count(page, "online"), (s) => s.devices.online);

    // The status filter asks the server for online devices only.
    await filterBar(page).getByLabel("Status").selectOption("online");
    await expect(page).toHaveURL(/[?&]status=online/);
    await expect(fleetDeviceRows(page)).toHaveCount(1);
    await expect(fleetDeviceRow(page, sensor)).toBeVisible();
    await filterBar(page).getByLabel("Status").selectOption("never");
    await expect(fleetDeviceRows(page)).toHaveCount(2);
    await expect(fleetDeviceRow(page, sensor)).toHaveCount(0);
    await filterBar(page).getByLabel("Status").selectOption("");

    // The tag filter applies on Enter; an unknown tag is an empty result, not an error.
    await filterBar(page).getByLabel("Tag").fill("roof");
    await filterBar(page).getByLabel("Tag").press("Enter");
    await expect(page).toHaveURL(/[?&]tag=roof/);
    await expect(fleetDeviceRows(page)).toHaveCount(1);
    await expect(fleetDeviceRow(page, gateway)).toBeVisible();
    await filterBar(page).getByLabel("Tag").fill(`${prefix}-no-such-tag`);
    await filterBar(page).getByLabel("Tag").press("Enter");
    await expect(main(page).getByText("No devices match these filters.")).toBeVisible();
    await main(page).getByRole("button", { name: "Clear filters" }).first().click();
    await expect(filterBar(page).getByRole("searchbox", { name: "Search" })).toHaveValue("");
    await filterBar(page).getByRole("searchbox", { name: "Search" }).fill(prefix);
    await expect(main(page).getByText("3 matching devices")).toBeVisible();
    await expect(fleetDeviceRows(page)).toHaveCount(3);

    await page.screenshot({ path: artifact("fleet-overview-devices.png"), fullPage: true });

    // The socket drops without DISCONNECT (power loss): offline once the server's grace
    // period has passed, and the offline alert shows in the active-alerts count.
    dropConnection(client);
    await expect(fleetDeviceRow(page, sensor)).toContainText("Offline", { timeout: 20_000 });
    await expect(fleetDeviceRow(page, sensor).locator("time")).toHaveText("just now");
    await expectCountToMatchServer(page, count(page, "offline"), (s) => s.devices.offline);
    await expectCountToMatchServer(page, count(page, "alerts"), (s) => s.alerts.active);
  } finally {
    client.end(true);
  }

  await expectSameDocument(page);

  // Each row leads to its device's page.
  await fleetDeviceRow(page, gateway).getByRole("link", { name: gateway }).click();
  await expect(page).toHaveURL(`/devices/${gateway}`);
});

test("hundreds of devices scroll in a virtualised table that fetches only the pages in view", async ({ page }) => {
  await signInAs(page, admin);
  // Several pages of GET /api/devices (100 rows each), tagged so that only they show.
  const prefix = uniqueDeviceId("bulk");
  const tag = prefix;
  const ids = Array.from({ length: 700 }, (_, i) => `${prefix}-${String(i).padStart(4, "0")}`);
  const imported = await page.request.post("/api/devices/import", {
    data: ids.map((id) => ({ id, name: id, tags: [tag] })),
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(imported.status(), await imported.text()).toBe(201);

  const secondPage = page.waitForRequest(
    // The page holding the last rows (600 to 699).
    (request) => request.url().includes("/api/devices?") && new URL(request.url()).searchParams.get("offset") === "600",
  );
  await page.goto(`/?tag=${tag}`);
  await expect(main(page).getByText("700 matching devices")).toBeVisible();
  await expect(fleetDevicesTable(page)).toHaveAttribute("aria-rowcount", "701");
  await expect(fleetDeviceRow(page, ids[0]!)).toBeVisible();
  // Only the rows in view (and a few around them) are in the DOM.
  expect(await fleetDeviceRows(page).count()).toBeLessThan(100);
  await expect(fleetDeviceRow(page, ids[699]!)).toHaveCount(0);

  // From the keyboard: focus the list and jump to its end; the last page is fetched then.
  await main(page).getByRole("region", { name: "Device list, scrollable" }).focus();
  await page.keyboard.press("End");
  await secondPage;
  await expect(fleetDeviceRow(page, ids[699]!)).toBeVisible();
  await expect(fleetDeviceRow(page, ids[0]!)).toHaveCount(0);
  await expect(fleetDeviceRow(page, ids[699]!)).toHaveAttribute("aria-rowindex", "701");
  expect(await fleetDeviceRows(page).count()).toBeLessThan(100);

  await page.keyboard.press("Home");
  await expect(fleetDeviceRow(page, ids[0]!)).toBeVisible();
});

test("a viewer sees the fleet but no button to register a device", async ({ page, baseURL }) => {
  await ensureViewer(page.request, baseURL!);
  await signInAs(page, viewer);
  await page.goto("/");
  await expect(fleetDevicesTable(page).or(main(page).getByText("No devices are registered yet."))).toBeVisible();
  await expect(page.getByRole("link", { name: "Register a device" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Register the first device" })).toHaveCount(0);
  await page.screenshot({ path: artifact("fleet-overview-viewer.png"), fullPage: true });
});
