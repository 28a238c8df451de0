// The device page against the real product: a real MQTT client publishes retained state and
// telemetry, and the page shows them without a reload; history, CSV export, credential
// rotation, disable and delete are checked against what the broker then accepts or refuses.
import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import { admin, ensureViewer, signInAs, viewer } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId, type DeviceLogin } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { latestReading, liveChart } from "../support/locators.ts";
import { expect, test } from "../support/test.ts";

const section = (page: Page, title: string) => page.getByRole("region", { name: title, exact: true });
const timeRange = (page: Page) => page.getByRole("group", { name: "History time range" });
const presenceBars = (page: Page) => section(page, "Presence").getByRole("list", { name: "Presence over the range, oldest first" });
const summaryValue = (page: Page, label: string) =>
  section(page, "History")
    .locator(".history-summary div")
    .filter({ has: page.getByText(label, { exact: true }) })
    .locator("dd");

/** The broker refuses this login at CONNECT (mqtt.js rejects with "Connection refused: …"). */
async function expectRefused(mqttPort: number, login: DeviceLogin): Promise<void> {
  await expect(connectDevice(mqttPort, login)).rejects.toThrow(/Connection refused/);
}

/** The broker accepts this login; the connection is closed again at once. */
async function expectAccepted(mqttPort: number, login: DeviceLogin): Promise<void> {
  const client = await connectDevice(mqttPort, login);
  await client.endAsync();
}

/** Opens the confirmation dialog of `button` and confirms with `confirm`. */
async function confirmAction(page: Page, button: string, confirm: string): Promise<void> {
  await page.getByRole("group", { name: "Device actions" }).getByRole("button", { name: button, exact: true }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: confirm, exact: true }).click();
  await expect(dialog).toBeHidden();
}

test("a device's page shows its state and readings live, its history and CSV, and manages its credentials, access and deletion", async ({
  page,
  product,
}) => {
  test.setTimeout(90_000);
  await signInAs(page, admin);
  const id = uniqueDeviceId("page");
  const login = await registerDevice(page, { id, name: "Boiler room sensor", tags: ["heat", "basement"] });

  await page.goto(`/devices/${id}`);
  await expect(page).toHaveTitle("Boiler room sensor · Fleetwatch");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Boiler room sensor");
  const header = page.locator(".device-header");
  await expect(header.locator(".device-facts").getByText(id, { exact: true })).toBeVisible();
  await expect(header.getByRole("list", { name: "Tags" }).getByRole("listitem")).toHaveText(["heat", "basement"]);
  await expect(header.getByRole("status")).toHaveText("Never seen");
  await expect(section(page, "Live readings")).toContainText("No readings yet");
  await expect(section(page, "Retained state")).toContainText("No retained messages");
  await expect(section(page, "Connection").locator(".details__row").filter({ hasText: "MQTT port" })).toContainText(
    String(product.mqttPort),
  );
  await expect(section(page, "Connection").locator(".details__row").filter({ hasText: "Client id" })).toContainText(id);

  // Connecting: the presence event reaches the header and the timeline live.
  const device = await connectDevice(product.mqttPort, login);
  await expect(header.getByRole("status")).toHaveText("Online");
  await expect(section(page, "Presence")).toContainText("Online now");
  await expect(presenceBars(page).getByRole("listitem").last()).toContainText("Online from");

  // Retained state, pretty-printed per topic.
  await publish(device, `devices/${id}/state`, { firmware: "1.4.2", mode: "eco" }, { retain: true });
  const statePayload = section(page, "Retained state").getByLabel(`Retained payload of devices/${id}/state`);
  await expect(statePayload).toHaveText(JSON.stringify({ firmware: "1.4.2", mode: "eco" }, null, 2));

  // Telemetry: the values and a chart point per reading, as they arrive.
  await publish(device, `devices/${id}/telemetry`, { temp: 21.5, env: { humidity: 40 } });
  await expect(latestReading(page, "temp")).toHaveText("21.5");
  await expect(latestReading(page, "env.humidity")).toHaveText("40");
  await expect(liveChart(page, "temp").locator("figcaption")).toContainText("1 point, latest 21.5");
  await expect(liveChart(page, "temp").locator(".ts-chart__dot")).toHaveCount(1);

  await publish(device, `devices/${id}/telemetry`, { temp: 23.5 });
  await expect(latestReading(page, "temp")).toHaveText("23.5");
  await expect(liveChart(page, "temp").locator("figcaption")).toContainText("2 points, latest 23.5");
  await expect(liveChart(page, "temp").locator(".ts-chart__dot")).toHaveCount(2);
  await expect(liveChart(page, "temp").locator(".recharts-line-curve")).toHaveAttribute("d", /^M[\d.,-]+L[\d.,-]+/);

  // Recent messages, newest first, live.
  const messages = page.getByRole("table", { name: "Recent messages" }).getByRole("row");
  await expect(messages.nth(1)).toContainText('"temp": 23.5');
  await expect(page.getByRole("table", { name: "Recent messages" })).toContainText('"firmware": "1.4.2"');

  // History of the last hour, downsampled by the server: min, max and average of both readings.
  const history = section(page, "History");
  await history.getByRole("combobox", { name: "Metric" }).selectOption("temp");
  await expect(timeRange(page).getByRole("radio", { name: "Last hour" })).toBeChecked();
  await expect(summaryValue(page, "Readings")).toHaveText("2", { timeout: 15_000 });
  await expect(summaryValue(page, "Minimum")).toHaveText("21.5");
  await expect(summaryValue(page, "Maximum")).toHaveText("23.5");
  await expect(summaryValue(page, "Average")).toHaveText("22.5");
  // Both readings may share a bucket (the last hour in 300 buckets of 15 s): a dot per bucket the server sent.
  const buckets = Number(/(\d+) points? of/.exec((await history.locator(".history-range").textContent()) ?? "")?.[1]);
  expect([1, 2]).toContain(buckets);
  await expect(history.locator(".ts-chart__dot")).toHaveCount(buckets);

  // Other ranges ask the server again; a custom range that ends before the readings is empty.
  await timeRange(page).getByRole("radio", { name: "Last week" }).check();
  await expect(history.locator(".history-range")).toContainText(/points? of 1 h each/); // a week in at most 300 buckets: hours
  await expect(summaryValue(page, "Readings")).toHaveText("2");
  await timeRange(page).getByRole("radio", { name: "Custom" }).check();
  const customRange = timeRange(page).getByRole("form", { name: "Custom time range" });
  await customRange.getByLabel("From").fill("2024-01-01T00:00");
  await customRange.getByLabel("To").fill("2024-01-02T00:00");
  await customRange.getByRole("button", { name: "Show range" }).click();
  await expect(history).toContainText("No readings of temp in this range.");
  await expect(summaryValue(page, "Readings")).toHaveText("0");
  await customRange.getByLabel("To").fill("2023-12-31T00:00");
  await customRange.getByRole("button", { name: "Show range" }).click();
  await expect(customRange.getByRole("alert")).toHaveText("The start must be before the end.");
  await timeRange(page).getByRole("radio", { name: "Last day" }).check();
  await expect(summaryValue(page, "Readings")).toHaveText("2");

  await page.screenshot({ path: artifact("device-page.png"), fullPage: true });

  // CSV download of the range: the raw readings of the charted metric, one row each.
  await history.getByText("Export CSV", { exact: true }).click();
  const download = async () => {
    const [file] = await Promise.all([page.waitForEvent("download"), history.getByRole("link", { name: "Download CSV" }).click()]);
    return { name: file.suggestedFilename(), lines: (await readFile(await file.path(), "utf8")).trim().split("\n") };
  };
  const long = await download();
  expect(long.name).toBe(`${id}-temp.csv`);
  expect(long.lines[0]).toBe("time,metric,value");
  expect(long.lines.slice(1).map((line) => line.split(",").slice(1).join(","))).toEqual(["temp,21.5", "temp,23.5"]);
  // Both metrics in one file, a column each: the first message's readings share its row.
  await history.getByRole("button", { name: "All", exact: true }).click();
  await history.getByRole("radio", { name: /^Wide/ }).check();
  const wide = await download();
  expect(wide.name).toBe(`${id}-telemetry-wide.csv`);
  expect(wide.lines[0]).toBe("time,env.humidity,temp");
  expect(wide.lines.slice(1).map((line) => line.split(",").slice(1).join(","))).toEqual(["40,21.5", ",23.5"]);

  // Rotate: the new password is shown once; the broker refuses the old one and accepts the new one.
  // A clean disconnect is recorded once ALERT_OFFLINE_GRACE_MS (5 s by default) has passed without a reconnect.
  await device.endAsync();
  await expect(header.getByRole("status")).toHaveText("Offline", { timeout: 15_000 });
  await expect(section(page, "Presence")).toContainText("Offline now");
  await expect(section(page, "Presence").getByRole("list", { name: "Offline periods, newest first" })).toContainText("disconnected");
  await confirmAction(page, "Rotate credentials", "Rotate credentials");
  const newPassword = (await page.getByLabel("New device password").textContent()) ?? "";
  expect(newPassword).toMatch(/^\S{20,}$/);
  expect(newPassword).not.toBe(login.password);
  await expect(page.getByRole("region", { name: "New password" }).getByRole("button", { name: "Copy new password" })).toBeVisible();
  await expectRefused(product.mqttPort, login);
  const rotated = { ...login, password: newPassword };
  await expectAccepted(product.mqttPort, rotated);
  await page.getByRole("button", { name: "Done, hide it" }).click();
  await expect(page.getByLabel("New device password")).toHaveCount(0);

  // Disable: refused even with the right password; enable lets it in again.
  await confirmAction(page, "Disable", "Disable device");
  await expect(header.getByRole("status")).toContainText("Disabled");
  await expectRefused(product.mqttPort, rotated);
  await page.getByRole("group", { name: "Device actions" }).getByRole("button", { name: "Enable", exact: true }).click();
  await expect(header.getByRole("status")).not.toContainText("Disabled");
  await expectAccepted(product.mqttPort, rotated);

  // Delete, after confirming: back to the fleet page, and the device is gone.
  await page.getByRole("group", { name: "Device actions" }).getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(`/devices/${id}`);
  await confirmAction(page, "Delete", "Delete device");
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Fleet overview");
  expect((await page.request.get(`/api/devices/${id}`)).status()).toBe(404);
  const listed = (await (await page.request.get(`/api/devices?q=${id}`)).json()) as { total: number };
  expect(listed.total).toBe(0);
  await expectRefused(product.mqttPort, rotated);
});

test("an unknown device id shows a clear not-found message", async ({ page }) => {
  await signInAs(page, admin);
  await page.goto("/devices/no-such-device-here");
  await expect(page).toHaveTitle("Device not found · Fleetwatch");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Device not found");
  await expect(page.getByRole("alert")).toContainText("There is no device with the id no-such-device-here");
  await page.getByRole("link", { name: "Go to the fleet overview" }).click();
  await expect(page).toHaveURL("/");
});

test("a viewer sees the device page without any button it cannot use", async ({ page, request, product }) => {
  await signInAs(page, admin);
  const id = uniqueDeviceId("viewed");
  await registerDevice(page, { id, name: "Viewed sensor" });
  await ensureViewer(request, product.baseUrl);
  await signInAs(page, viewer);

  await page.goto(`/devices/${id}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Viewed sensor");
  await expect(section(page, "Connection")).toContainText("Client id");
  await expect(section(page, "History")).toBeVisible();
  await expect(page.getByRole("group", { name: "Device actions" })).toHaveCount(0);
  for (const name of ["Rotate credentials", "Disable", "Enable", "Delete"]) {
    await expect(page.getByRole("button", { name, exact: true })).toHaveCount(0);
  }
});
