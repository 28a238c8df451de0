// Issue 5, flow 5: a viewer sees everything and can change nothing. Every page is visited
// with data on it (a device, an alert rule and an active alert, made by the admin first),
// and no control for a change the server would refuse a viewer may be on it. The viewer's
// own API tokens are the exception the server allows, and work.
import type { Page } from "@playwright/test";
import { deviceTopic } from "@fleetwatch/contracts";
import { admin, csrfToken, ensureViewer, signInAs, viewer } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

/** Names of controls that change the fleet, alerts or users. Pages built later must keep them from viewers too. */
// Kept to words that only name changes, so a later page's harmless controls ("Pause",
// "Download CSV", "Copy", "Filter") cannot trip it.
const changeControl = /register|rotate|disable|enable|delete|acknowledge|new rule|create rule|edit rule|save rule|add user|import devices/i;

async function expectNoChangeControls(page: Page): Promise<void> {
  const main = page.getByRole("main");
  await expect(main.getByRole("button", { name: changeControl })).toHaveCount(0);
  await expect(page.getByRole("link", { name: changeControl })).toHaveCount(0);
  // Nor a role picker, nor the navigation's "Register a device".
  await expect(main.getByRole("combobox", { name: /role/i })).toHaveCount(0);
}

test("a viewer sees every page's data and no control to change anything, but manages their own API tokens", async ({
  page,
  product,
  request,
}) => {
  // It visits every page as two users: 30 s is too tight on a loaded 2-core machine (28.8 s seen).
  test.setTimeout(60_000);
  await ensureViewer(request, product.baseUrl);

  // The admin prepares something to look at: a device, a rule on it, and an active alert.
  await signInAs(page, admin);
  const login = await registerDevice(page, { id: uniqueDeviceId("viewer-sees"), tags: ["viewer-spec"] });
  const ruleName = `Viewer spec ${login.id}`;
  const created = await page.request.post("/api/alert-rules", {
    data: { name: ruleName, deviceId: login.id, metric: "temp", comparison: ">", threshold: 50 },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(created.status(), await created.text()).toBe(201);
  const device = await connectDevice(product.mqttPort, login);
  try {
    await publish(device, deviceTopic.telemetry(login.id), { temp: 90 });
    await expect
      .poll(
        async () =>
          ((await (await page.request.get(`/api/alerts?state=active&deviceId=${login.id}`)).json()) as { items: unknown[] }).items.length,
      )
      .toBe(1);

    await signInAs(page, viewer);

    await page.goto("/");
    await expect(page.getByRole("banner")).toContainText(viewer.email);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Fleet overview");
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" })).toBeVisible();
    await expectNoChangeControls(page);
    await page.screenshot({ path: artifact("viewer-fleet-overview.png"), fullPage: true });

    await page.goto(`/devices/${login.id}`);
    await expect(page.getByRole("heading", { level: 1 })).toContainText(login.id);
    await expect(page.getByRole("main")).toContainText("temp");
    await expectNoChangeControls(page);
    await page.screenshot({ path: artifact("viewer-device.png"), fullPage: true });

    await page.goto("/explorer");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectNoChangeControls(page);
    await page.screenshot({ path: artifact("viewer-explorer.png"), fullPage: true });

    await page.goto("/devices/new");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expectNoChangeControls(page);
    await page.screenshot({ path: artifact("viewer-register-device.png"), fullPage: true });

    // Alerts: the alert and the rule are there to read; acknowledging and rule changes are not offered.
    await page.goto("/alerts");
    const alertRow = page.getByRole("region", { name: "Open alerts" }).getByRole("row").filter({ hasText: login.id });
    await expect(alertRow).toContainText(`${ruleName}: temp > 50 (value 90)`);
    await expect(alertRow).toContainText("Active");
    const ruleRow = page.getByRole("region", { name: "Threshold rules" }).getByRole("row").filter({ hasText: ruleName });
    await expect(ruleRow).toContainText("temp > 50");
    await expectNoChangeControls(page);
    await page.screenshot({ path: artifact("viewer-alerts.png"), fullPage: true });

    // Settings: no users section (viewers may not even list users), but their own tokens.
    await page.goto("/settings");
    const tokens = page.getByRole("region", { name: "Your API tokens" });
    await expect(tokens.getByRole("button", { name: "Create token" })).toBeVisible();
    await expect(page.getByRole("region", { name: "Users and roles" })).toHaveCount(0);
    await expect(page.getByRole("main")).not.toContainText(admin.email);
    await expectNoChangeControls(page);

    const tokenName = `viewer-script-${Date.now().toString(36)}`;
    await tokens.getByLabel("Token name").fill(tokenName);
    await tokens.getByRole("button", { name: "Create token" }).click();
    const token = await tokens.getByLabel("New API token").inputValue();
    const asToken = { headers: { authorization: `Bearer ${token}` } };
    const me = (await (await page.request.get("/api/auth/me", asToken)).json()) as { user: { email: string; role: string } };
    expect(me.user).toMatchObject({ email: viewer.email, role: "viewer" });
    await expect(tokens.getByRole("row").filter({ hasText: tokenName })).toBeVisible();
    await page.screenshot({ path: artifact("viewer-settings.png"), fullPage: true });
  } finally {
    await device.endAsync();
  }
});
