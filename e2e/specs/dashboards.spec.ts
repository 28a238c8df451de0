// Dashboards of one's own and the overview's pulse, against the built product with a real MQTT
// client publishing known values: a dashboard made in the form with three widget kinds
// updates live, survives a reload, is exported and imported; a bad file gets a clear error.
import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import type { FleetPulse } from "@fleetwatch/contracts";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const widget = (page: Page, title: string) => page.getByRole("region", { name: title, exact: true });

async function addWidget(page: Page, fill: (form: ReturnType<Page["getByRole"]>) => Promise<void>) {
  await page.getByRole("button", { name: "Add a widget" }).click();
  const form = page.getByRole("form", { name: "Add a widget" });
  await fill(form);
  await form.getByRole("button", { name: "Add widget" }).click();
  await expect(form).toBeHidden();
}

test("a dashboard made in the form with three widget kinds updates live, survives a reload, and is exported and imported", async ({
  page,
  product,
}) => {
  test.setTimeout(120_000);
  await signInAs(page, admin);
  const id = uniqueDeviceId("dash");
  const device = await connectDevice(product.mqttPort, await registerDevice(page, { id, tags: ["dash-e2e"] }));
  try {
    await publish(device, `devices/${id}/telemetry`, { temp: 21.5 });
    await publish(device, `devices/${id}/state`, { mode: "auto" }, { retain: true });

    await page.goto("/dashboards");
    const name = `Plant room ${id}`;
    await page.getByLabel("New dashboard").fill(name);
    await page.getByRole("button", { name: "Create" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);

    await page.getByRole("button", { name: "Edit" }).click();
    await addWidget(page, async (form) => {
      await form.getByLabel("Kind").selectOption("value");
      await form.getByLabel("Title").fill("Temperature now");
      await form.getByLabel("Device id").fill(id);
      await form.getByLabel("Metric").fill("temp");
      await form.getByLabel("Unit").fill("°C");
      await form.getByLabel("Warning threshold").fill("30");
    });
    await addWidget(page, async (form) => {
      await form.getByLabel("Kind").selectOption("timeseries");
      await form.getByLabel("Title").fill("Temperature history");
      await form.getByLabel("Device id").fill(id);
      await form.getByLabel("Metric").fill("temp");
    });
    await addWidget(page, async (form) => {
      await form.getByLabel("Kind").selectOption("retained");
      await form.getByLabel("Title").fill("Device state");
      await form.getByLabel("Device id").fill(id);
    });
    await page.getByRole("button", { name: "Done editing" }).click();

    const value = widget(page, "Temperature now").locator("output");
    await expect(value).toHaveText("21.5 °C");
    await expect(value).toHaveAttribute("data-level", "ok");
    await expect(widget(page, "Device state")).toContainText('{"mode":"auto"}');
    await expect(widget(page, "Temperature history").locator(".ts-chart__dot").first()).toBeVisible();

    // Live: a new reading past the warning threshold, and a new retained state, show without a reload.
    await publish(device, `devices/${id}/telemetry`, { temp: 33.25 });
    await publish(device, `devices/${id}/state`, { mode: "boost" }, { retain: true });
    await expect(value).toHaveText("33.25 °C", { timeout: 10_000 });
    await expect(value).toHaveAttribute("data-level", "warning");
    await expect(widget(page, "Device state")).toContainText('{"mode":"boost"}', { timeout: 10_000 });
    await expect(widget(page, "Temperature history")).toContainText("33.25");

    await page.reload();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await expect(widget(page, "Temperature now").locator("output")).toHaveText("33.25 °C");
    await expect(widget(page, "Device state")).toContainText('{"mode":"boost"}');
    await page.screenshot({ path: artifact("dashboard-three-widgets.png"), fullPage: true });

    const downloading = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export JSON" }).click();
    const file = await (await downloading).path();
    const exported = JSON.parse(await readFile(file, "utf8")) as { format: string; name: string; widgets: { kind: string }[] };
    expect(exported).toMatchObject({ format: "fleetwatch-dashboard", version: 1, name });
    expect(exported.widgets.map((w) => w.kind)).toEqual(["value", "timeseries", "retained"]);

    await page.goto("/dashboards");
    const chooser = page.getByLabel("Import a dashboard (JSON export file)");
    await chooser.setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from('{"format": "fleetwatch-dash') });
    await expect(page.getByRole("alert")).toContainText("This file is not valid JSON");
    await chooser.setInputFiles({
      name: "wrong.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify({ ...exported, widgets: [{ ...exported.widgets[0], kind: "pie" }] })),
    });
    await expect(page.getByRole("alert")).toContainText("This file is not a dashboard Fleetwatch can import");
    await chooser.setInputFiles(file);
    await expect(page).toHaveURL(/\/dashboards\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);
    await expect(widget(page, "Temperature now").locator("output")).toHaveText("33.25 °C");
    await expect(widget(page, "Device state")).toContainText('{"mode":"boost"}');
    await page.goto("/dashboards");
    await expect(page.getByRole("link", { name, exact: true })).toHaveCount(2);
  } finally {
    await device.endAsync();
  }
});

test("the overview's pulse shows the fleet's known numbers: a device's messages among the top talkers, and the server's totals", async ({
  page,
  product,
}) => {
  test.setTimeout(90_000);
  await signInAs(page, admin);
  const id = uniqueDeviceId("talker");
  const device = await connectDevice(product.mqttPort, await registerDevice(page, { id, name: `Talker ${id}` }));
  try {
    // More than any other spec's device sends in an hour: the top talker.
    for (let i = 0; i < 150; i++) await publish(device, `devices/${id}/telemetry`, { n: i });
    await page.goto("/");
    const pulse = page.getByTestId("fleet-pulse");
    const talkers = pulse.getByRole("region", { name: "Top talkers (last hour)" });
    await expect(talkers.getByRole("listitem").first()).toContainText(`Talker ${id}`, { timeout: 20_000 });
    await expect(talkers.getByRole("listitem").first()).toContainText("150 messages");
    // The figures are the server's aggregates: the page shows what GET /api/fleet/pulse says.
    await expect(async () => {
      const body = (await (await page.request.get("/api/fleet/pulse")).json()) as FleetPulse;
      await expect(pulse.getByRole("region", { name: "Messages per minute" })).toContainText(
        `${body.messageRate.total.toLocaleString("en-US")} in the last hour`,
        { timeout: 1_000 },
      );
      await expect(pulse.getByRole("region", { name: "Devices online" })).toContainText(`${body.online.now.toLocaleString("en-US")} now`, {
        timeout: 1_000,
      });
    }).toPass({ timeout: 30_000 });
    await expect(pulse.getByRole("region", { name: "Messages per minute" }).locator(".recharts-line-curve")).toBeVisible();
  } finally {
    await device.endAsync();
  }
});
