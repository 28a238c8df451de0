// Issue 5, flow 3 (offline alert live, acknowledge, resolve on reconnect) and threshold
// rules managed in the UI. Real MQTT clients over TCP; the page is never reloaded.
import type { Locator, Page } from "@playwright/test";
import { deviceTopic } from "@fleetwatch/contracts";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, dropConnection, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { startSilentProxy } from "../support/silent-proxy.ts";
import { artifact, markDocument, expectSameDocument } from "../support/page.ts";
import { fleetDeviceRow } from "../support/locators.ts";
import { expect, test } from "../support/test.ts";

const keepaliveS = 2;
// The product runs with the default ALERT_OFFLINE_GRACE_MS (global-setup sets none): a loss
// is confirmed, and its alert raised, once the device has stayed away this long.
const offlineGraceMs = 5_000;
// Detection (at most 1.5 × keepalive when no FIN arrives; at once here, the socket closes),
// then the grace period, then one sweep (ALERT_SWEEP_MS, 1 s) and the live frame, with slack
// for a shared two-core machine.
const offlineAlertTimeoutMs = 1.5 * keepaliveS * 1000 + offlineGraceMs + 1_000 + 3_000;

const openAlerts = (page: Page) => page.getByRole("region", { name: "Open alerts" });
const history = (page: Page) => page.getByRole("region", { name: "History" });
const rules = (page: Page) => page.getByRole("region", { name: "Threshold rules" });
const alertRow = (list: Locator, deviceId: string) =>
  list.getByRole("row").filter({ has: list.page().getByRole("link", { name: deviceId, exact: true }) });

/** The alerts page, with its lists loaded and the live channel open (so no event can slip by unseen). */
async function openAlertsPage(page: Page): Promise<void> {
  await page.goto("/alerts");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Alerts");
  await expect(page.getByRole("banner").getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await expect(openAlerts(page).getByRole("status")).toHaveCount(0); // not "Loading…"
}

test.beforeEach(async ({ page }) => signInAs(page, admin));

test("a device that drops its connection raises an offline alert live; the admin acknowledges it; reconnecting resolves it", async ({
  page,
  product,
}) => {
  const login = await registerDevice(page, { id: uniqueDeviceId("alert-offline") });
  const will = { topic: deviceTopic.status(login.id), payload: Buffer.from("offline"), qos: 1 as const, retain: true };
  const device = await connectDevice(product.mqttPort, login, { keepalive: keepaliveS, will });
  await publish(device, deviceTopic.telemetry(login.id), { temp: 21.5 });

  await openAlertsPage(page);
  await expect(alertRow(openAlerts(page), login.id)).toHaveCount(0);

  dropConnection(device);

  const raised = alertRow(openAlerts(page), login.id);
  await expect(raised).toBeVisible({ timeout: offlineAlertTimeoutMs });
  await expect(raised).toContainText("Device went offline unexpectedly");
  await expect(raised).toContainText("Active");

  await raised.getByRole("button", { name: "Acknowledge" }).click();
  await expect(raised).toContainText(`Acknowledged by ${admin.email}`);
  await expect(raised.getByRole("button", { name: "Acknowledge" })).toHaveCount(0);
  await page.screenshot({ path: artifact("alerts.png"), fullPage: true });

  const back = await connectDevice(product.mqttPort, login, { keepalive: keepaliveS });
  try {
    await expect(alertRow(openAlerts(page), login.id)).toHaveCount(0, { timeout: 10_000 });
    const resolved = alertRow(history(page), login.id);
    await expect(resolved).toContainText("Resolved");
    await expect(resolved).toContainText(`Acknowledged by ${admin.email}`);
  } finally {
    await back.endAsync();
  }
});

test("a device that goes silent without closing its socket shows offline on the fleet page and raises an offline alert within 1.5 × keepalive", async ({
  page,
  product,
}) => {
  // Power or network loss: no FIN, no RST. Only the keepalive can tell the broker.
  const silentKeepaliveS = 4;
  const login = await registerDevice(page, { id: uniqueDeviceId("alert-silent") });
  const proxy = await startSilentProxy(product.mqttPort);
  const device = await connectDevice(proxy.port, login, { keepalive: silentKeepaliveS });
  try {
    await publish(device, deviceTopic.telemetry(login.id), { temp: 20 });
    await page.goto(`/?q=${login.id}`);
    const row = fleetDeviceRow(page, login.id);
    await expect(row).toContainText("Online");
    await markDocument(page);

    // From now on nothing crosses the proxy, the client's pings included; whatever the client
    // does with its own end, the broker's side of the proxy stays open and silent.
    const silencedAt = Date.now();
    proxy.silence();

    // Waiting is bounded by what the issue promises (1.5 × keepalive), plus the sweep and
    // the live frame, and a little slack for this two-core machine; the figure is reported.
    const bound = 1.5 * silentKeepaliveS * 1000;
    await expect(row).toContainText("Offline", { timeout: bound + 3_000 });
    const offlineAfterMs = Date.now() - silencedAt;
    test.info().annotations.push({ type: "offline shown after", description: `${offlineAfterMs} ms (1.5 × keepalive = ${bound} ms)` });
    console.log(`silent device shown offline after ${offlineAfterMs} ms (1.5 × keepalive = ${bound} ms)`);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" }).click();
    const raised = alertRow(openAlerts(page), login.id);
    await expect(raised).toContainText("Device went offline unexpectedly");
    await expectSameDocument(page);
  } finally {
    device.end(true);
    await proxy.close();
  }
});

test("a threshold rule created in the form raises an alert live when a reading crosses it, and can be edited and deleted", async ({
  page,
  product,
}) => {
  const login = await registerDevice(page, { id: uniqueDeviceId("alert-rule") });
  const device = await connectDevice(product.mqttPort, login);
  const ruleName = `Too hot ${login.id}`;
  try {
    await openAlertsPage(page);

    await rules(page).getByRole("button", { name: "New rule" }).click();
    const form = rules(page).getByRole("region", { name: "New threshold rule" });
    await form.getByLabel("Name").fill(ruleName);
    await form.getByRole("radio", { name: "One device" }).check();
    await form.getByLabel("Device id").fill(login.id);
    await form.getByLabel("Metric").fill("temp");
    await form.getByLabel("Comparison").selectOption(">");
    await form.getByLabel("Threshold").fill("50");
    await form.getByLabel("Hold for (seconds)").fill("0");
    await form.getByRole("button", { name: "Create rule" }).click();

    const ruleRow = rules(page).getByRole("row").filter({ hasText: ruleName });
    await expect(ruleRow).toContainText(`device ${login.id}`);
    await expect(ruleRow).toContainText("temp > 50");
    await expect(form).toHaveCount(0);

    // Below the threshold: nothing. Above it: an alert, without a reload.
    await publish(device, deviceTopic.telemetry(login.id), { temp: 20 });
    await publish(device, deviceTopic.telemetry(login.id), { temp: 80 });
    const raised = alertRow(openAlerts(page), login.id);
    await expect(raised).toContainText(`${ruleName}: temp > 50 (value 80)`);
    await expect(raised).toContainText("Active");

    // A reading back under it resolves the alert.
    await publish(device, deviceTopic.telemetry(login.id), { temp: 30 });
    await expect(alertRow(openAlerts(page), login.id)).toHaveCount(0);
    await expect(alertRow(history(page), login.id)).toContainText("Resolved");

    await ruleRow.getByRole("button", { name: `Edit rule ${ruleName}` }).click();
    const edit = rules(page).getByRole("region", { name: `Edit rule “${ruleName}”` });
    await expect(edit.getByLabel("Threshold")).toHaveValue("50");
    await edit.getByLabel("Threshold").fill("25");
    await edit.getByRole("button", { name: "Save rule" }).click();
    await expect(ruleRow).toContainText("temp > 25");

    await ruleRow.getByRole("button", { name: "Delete" }).click();
    await page
      .getByRole("dialog", { name: `Delete rule “${ruleName}”?` })
      .getByRole("button", { name: "Delete rule" })
      .click();
    await expect(ruleRow).toHaveCount(0);
  } finally {
    await device.endAsync();
  }
});

test("the rule form explains a refused rule instead of failing silently", async ({ page }) => {
  await openAlertsPage(page);
  await rules(page).getByRole("button", { name: "New rule" }).click();
  const form = rules(page).getByRole("region", { name: "New threshold rule" });
  await form.getByLabel("Name").fill("Rule for a device that does not exist");
  await form.getByLabel("Device id").fill(uniqueDeviceId("no-such-device"));
  await form.getByLabel("Metric").fill("temp");
  await form.getByLabel("Threshold").fill("1");
  await form.getByRole("button", { name: "Create rule" }).click();
  // The server's 400 (no such device), shown next to the form, which stays open.
  await expect(form.getByRole("alert")).toContainText("no device");

  await form.getByLabel("Threshold").fill("");
  await form.getByRole("button", { name: "Create rule" }).click();
  await expect(form.getByRole("alert")).toHaveText("The threshold must be a number.");
  await expect(form.getByLabel("Threshold")).toBeFocused();
});
