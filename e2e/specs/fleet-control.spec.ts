// Acting on the fleet from the dashboard, against the real product: a command sent from the
// device page to a real MQTT client that answers reaches "responded" without a reload, and a
// device's tags are edited with the fleet's tags suggested.
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
