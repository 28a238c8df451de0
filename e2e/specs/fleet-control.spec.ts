// Acting on the fleet from the dashboard, against the real product: a command sent from the
// device page to a real MQTT client that answers reaches "responded" without a reload, a
// device's tags are edited with the fleet's tags suggested, and a CSV import is previewed,
// fixed and imported, its credentials downloaded once.
import { readFile } from "node:fs/promises";
import type { Page } from "@playwright/test";
import { parseCommandTopic } from "@fleetwatch/contracts";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const commandsPanel = (page: Page) => page.getByRole("region", { name: "Commands", exact: true });

test("a command sent from the device page reaches a real device, which answers: the status goes to responded without a reload", async ({
  page,
  product,
}) => {
  await signInAs(page, admin);
  const id = uniqueDeviceId("cmd");
  const login = await registerDevice(page, { id, name: "Commanded pump" });
  const device = await connectDevice(product.mqttPort, login);
  const received: string[] = [];
  try {
    await device.subscribeAsync(`devices/${id}/commands/+`, { qos: 1 });
    device.on("message", (topic, payload) => {
      const command = parseCommandTopic(topic);
      if (!command || command.response) return;
      received.push(payload.toString());
      // Answer a moment later, so the page is seen going through its statuses.
      setTimeout(() => void device.publishAsync(`${topic}/response`, JSON.stringify({ ok: true, interval: 10 }), { qos: 1 }), 300);
    });
    await page.goto(`/devices/${id}`);
    const panel = commandsPanel(page);
    await expect(panel).toContainText("No commands sent to this device yet.");

    // Params are checked as JSON before anything is sent.
    await panel.getByLabel("Name").fill("set-interval");
    await panel.getByLabel("Params (JSON, optional)").fill("{seconds: 10}");
    await panel.getByRole("button", { name: "Send command" }).click();
    await expect(panel.getByText(/^Not valid JSON/)).toBeVisible();
    expect(received).toEqual([]);

    await panel.getByLabel("Params (JSON, optional)").fill('{"seconds": 10}');
    await panel.getByRole("button", { name: "Send command" }).click();
    const row = panel.getByRole("table", { name: "Command history" }).getByRole("row").nth(1);
    await expect(row).toContainText("set-interval");
    await expect(row.getByTestId("command-status")).toHaveText("responded", { timeout: 15_000 });
    await expect(row).toContainText('"interval": 10');
    expect(received.map((text) => JSON.parse(text) as unknown)).toEqual([{ name: "set-interval", params: { seconds: 10 } }]);
    await page.screenshot({ path: artifact("device-commands.png"), fullPage: true });
  } finally {
    await device.endAsync();
  }
});

test("an operator edits a device's tags, with the fleet's tags suggested", async ({ page }) => {
  await signInAs(page, admin);
  const id = uniqueDeviceId("edit");
  await registerDevice(page, { id: `${id}-other`, name: "Other", tags: ["greenhouse-e2e"] });
  await registerDevice(page, { id, name: "To edit", tags: ["roof"] });
  await page.goto(`/devices/${id}`);
  await page.getByRole("button", { name: "Edit details" }).click();
  const form = page.getByRole("form", { name: "Edit device" });
  await form.getByLabel("Tags").fill("roof, greenh");
  await form.getByRole("button", { name: "greenhouse-e2e" }).click();
  await expect(form.getByLabel("Tags")).toHaveValue("roof, greenhouse-e2e, ");
  await form.getByLabel("Name").fill("   ");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByText("Give the device a name.")).toBeVisible();
  await form.getByLabel("Name").fill("Edited device");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form).toBeHidden();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Edited device");
  await expect(page.getByRole("list", { name: "Tags" })).toHaveText(/roof\s*greenhouse-e2e/);
  // Stored, not only shown.
  await page.reload();
  await expect(page.getByRole("list", { name: "Tags" }).getByRole("listitem")).toHaveText(["roof", "greenhouse-e2e"]);
});

test("a 3-row CSV with one bad row: the preview shows the row's error and writes nothing; fixed, it imports, and the credentials download once", async ({
  page,
}) => {
  await signInAs(page, admin);
  const prefix = uniqueDeviceId("imp");
  const csv = (second: string) =>
    `name,id,description,tags\nImported A,${prefix}-a,first,e2e;bulk\n${second},${prefix}-b,,\nImported C,${prefix}-c,,\n`;
  await page.goto("/devices/new");
  await page.getByRole("link", { name: "Import devices from CSV" }).click();
  const importer = page.getByRole("region", { name: "Import devices from CSV" });
  await importer.getByLabel("CSV", { exact: true }).fill(csv("   "));
  await importer.getByRole("button", { name: "Preview" }).click();
  const preview = importer.getByRole("table", { name: "Import preview" });
  await expect(preview.getByRole("row")).toHaveCount(4);
  await expect(preview.getByRole("row").nth(2)).toContainText("name:");
  await expect(importer).toContainText("1 of 3 rows have errors");
  await expect(importer.getByRole("button", { name: /^Import \d/ })).toHaveCount(0);
  expect((await page.request.get(`/api/devices/${prefix}-a`)).status()).toBe(404);
  await page.screenshot({ path: artifact("import-preview-error.png"), fullPage: true });

  await importer.getByLabel("CSV", { exact: true }).fill(csv("Imported B"));
  await expect(preview).toBeHidden();
  await importer.getByRole("button", { name: "Preview" }).click();
  await expect(importer).toContainText("All 3 rows can be imported");
  await importer.getByRole("button", { name: "Import 3 devices" }).click();

  const done = page.getByRole("region", { name: "Imported devices" });
  await expect(done).toContainText("Imported 3 devices.");
  const downloading = page.waitForEvent("download");
  await done.getByRole("button", { name: "Download credentials (CSV)" }).click();
  const file = await (await downloading).path();
  const lines = (await readFile(file, "utf8")).trim().split(/\r\n/);
  expect(lines[0]).toBe("id,name,client_id,username,password,mqtt,ws");
  expect(lines.slice(1).map((line) => line.split(",")[0])).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
  expect(lines[1]?.split(",")[4]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  // Once: the page no longer holds the passwords.
  await expect(done.getByRole("button", { name: "Download credentials (CSV)" })).toHaveCount(0);
  await expect(done).toContainText("cannot be shown again");
  expect((await page.request.get(`/api/devices/${prefix}-b`)).status()).toBe(200);
});

test("an admin disconnects a client from the Clients page: the real MQTT client sees its connection close, and the page drops it without a reload", async ({
  page,
  product,
}) => {
  await signInAs(page, admin);
  const id = uniqueDeviceId("kick");
  const login = await registerDevice(page, { id, name: "Kicked sensor" });
  // A persistent session with a subscription, so the dialog's session choice means something.
  const device = await connectDevice(product.mqttPort, login, { clean: false, protocolVersion: 4 });
  try {
    await device.subscribeAsync(`devices/${id}/commands/#`, { qos: 1 });
    const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));

    await page.goto("/");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Clients" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Connected clients");
    await page.getByLabel("Client id starts with").fill(id);
    const table = page.getByRole("table", { name: "Connected clients" });
    const row = table.getByRole("row").filter({ hasText: id });
    await expect(row).toContainText("TCP · MQTT 3.1.1");
    await expect(row).toContainText("persistent");
    await expect(row).toContainText(`devices/${id}/commands/#`);

    await row.getByRole("button", { name: `Disconnect ${id}` }).click();
    const dialog = page.getByRole("dialog", { name: `Disconnect ${id}?` });
    await expect(dialog).toContainText("Keep session");
    await page.screenshot({ path: artifact("clients-disconnect.png"), fullPage: true });
    await dialog.getByRole("button", { name: "Disconnect, clear session" }).click();

    await closed;
    await expect(page.getByText("No client connected matches these filters.")).toBeVisible({ timeout: 15_000 });
  } finally {
    await device.endAsync(true);
  }
});
