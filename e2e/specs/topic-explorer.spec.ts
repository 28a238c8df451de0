// Issue 5, flow 4: the topic explorer subscribed to devices/+/telemetry shows messages from
// two devices live; pause holds the stream still, resume continues; the tree shows both
// devices' topics, with a retained value loaded from GET /api/retained.
import type { Page } from "@playwright/test";
import type { MqttClient } from "mqtt";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const stream = (page: Page) => page.getByRole("list", { name: "Messages" });
const rows = (page: Page) => stream(page).getByRole("listitem");
const tree = (page: Page) => page.getByRole("list", { name: "Topics" });
const summary = (page: Page) => page.locator(".explorer__summary");

async function subscribe(page: Page, filter: string): Promise<void> {
  await page.getByLabel("Topic filter").fill(filter);
  await page.getByRole("button", { name: "Subscribe" }).click();
  await expect(page).toHaveURL(`/explorer?filter=${encodeURIComponent(filter)}`);
}

const clients: MqttClient[] = [];
test.afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
});

test("the explorer on devices/+/telemetry streams two devices live, pauses and resumes, and builds their topic tree", async ({
  page,
  product,
}) => {
  await signInAs(page, admin);
  const [first, second] = [uniqueDeviceId("explore-a"), uniqueDeviceId("explore-b")];
  const a = await connectDevice(product.mqttPort, await registerDevice(page, { id: first }));
  const b = await connectDevice(product.mqttPort, await registerDevice(page, { id: second }));
  clients.push(a, b);
  // Retained before the page opens: the tree can only know it from the server's retained store.
  await publish(b, `devices/${second}/telemetry`, { temperature: 19 }, { retain: true });

  await page.goto("/explorer");
  await subscribe(page, "devices/+/telemetry");
  const retainedLeaf = tree(page).locator(`[data-topic="devices/${second}/telemetry"]`);
  await expect(retainedLeaf).toContainText("retained");
  await expect(retainedLeaf).toContainText('{"temperature":19}');

  // The live subscription is in place once a message makes it through; until then, publish again.
  await expect(async () => {
    await publish(a, `devices/${first}/telemetry`, { temperature: 21.5, seq: 0 });
    await publish(b, `devices/${second}/telemetry`, { temperature: 20, seq: 0 });
    await expect(stream(page).getByText(`devices/${first}/telemetry`, { exact: true }).first()).toBeVisible({ timeout: 1_000 });
    await expect(stream(page).getByText(`devices/${second}/telemetry`, { exact: true }).first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  // Pretty-printed JSON, and nothing outside the filter.
  await expect(rows(page).first().locator("pre")).toContainText('"temperature": ');
  await publish(a, `devices/${first}/state`, { on: true });
  await publish(a, `devices/${first}/telemetry`, { temperature: 21.6, seq: 1 });
  await expect(stream(page)).toContainText('"seq": 1');
  await expect(stream(page)).not.toContainText(`devices/${first}/state`);

  // The tree: both devices, their telemetry topic with a rate and the last value.
  for (const id of [first, second]) {
    const leaf = tree(page).locator(`[data-topic="devices/${id}/telemetry"]`);
    await expect(leaf).toBeVisible();
    await expect(leaf).toContainText("msg/s");
  }
  await expect(tree(page).locator(`[data-topic="devices/${first}/telemetry"]`)).toContainText('"seq":1');
  // A plain message after the retained one: the tree shows both the last and the retained value.
  await expect(retainedLeaf).toContainText('"seq":0');
  await expect(retainedLeaf).toContainText('{"temperature":19}');
  await expect(tree(page).locator('[data-topic="devices"] > details > summary')).toContainText(/\d+ topics/);
  await page.screenshot({ path: artifact("topic-explorer.png"), fullPage: true });

  // Pause: new messages arrive (counted) but add no rows.
  await page.getByRole("button", { name: "Pause" }).click();
  const shown = await rows(page).count();
  for (let seq = 2; seq <= 4; seq++) await publish(a, `devices/${first}/telemetry`, { temperature: 22, seq, note: "while-paused" });
  await expect(summary(page)).toContainText("Paused: 3 new messages not shown");
  await expect(rows(page)).toHaveCount(shown);
  await expect(stream(page)).not.toContainText("while-paused");
  // The tree kept counting.
  await expect(tree(page).locator(`[data-topic="devices/${first}/telemetry"]`)).toContainText('"seq":4');

  // Resume: the stream continues with new messages.
  await page.getByRole("button", { name: "Resume" }).click();
  await publish(b, `devices/${second}/telemetry`, { temperature: 20.5, note: "after-resume" });
  await expect(rows(page).first()).toContainText("after-resume");
  await expect(rows(page)).toHaveCount(shown + 1);
  await expect(summary(page)).toContainText("Streaming devices/+/telemetry");

  // Clear empties the stream; the retained topic stays in the tree.
  await page.getByRole("button", { name: "Clear" }).click();
  await expect(rows(page)).toHaveCount(0);
  await expect(retainedLeaf).toContainText("retained");
  await expect(tree(page).locator(`[data-topic="devices/${first}/telemetry"]`)).toHaveCount(0);
});

test("the explorer explains an invalid filter before subscribing, and shows the server's refusal of a forbidden one", async ({ page }) => {
  await signInAs(page, admin);
  await page.goto("/explorer");

  const input = page.getByLabel("Topic filter");
  await input.fill("devices/#/telemetry");
  await input.press("Enter");
  await expect(page.getByRole("alert")).toContainText('"devices/#/telemetry" is not a valid topic filter');
  await expect(input).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL("/explorer");

  // Valid MQTT, but the platform's internal channel: the live channel refuses it.
  await subscribe(page, "$fleetwatch/#");
  await expect(page.getByRole("alert").filter({ hasText: "The server refused to stream" })).toContainText(
    'You may not subscribe to "$fleetwatch/#"',
  );
});

test("the stream shows one line per message and the pretty JSON of an opened one; full rows are remembered; the retained mark stays inside the tree's card", async ({
  page,
  product,
}) => {
  // A mid-sized window: the tree's card is at its narrowest beside the stream.
  await page.setViewportSize({ width: 1100, height: 900 });
  await signInAs(page, admin);
  const id = uniqueDeviceId("compact");
  const device = await connectDevice(product.mqttPort, await registerDevice(page, { id }));
  clients.push(device);
  await publish(
    device,
    `devices/${id}/state`,
    { firmware: "3.0.0", mode: "eco", schedule: "weekdays-0600-2200-".repeat(4) },
    { retain: true },
  );

  await page.goto(`/explorer?filter=${encodeURIComponent(`devices/${id}/#`)}`);
  const compact = page.getByRole("button", { name: "Compact rows" });
  await expect(compact).toHaveAttribute("aria-pressed", "true");
  await expect(async () => {
    await publish(device, `devices/${id}/telemetry`, { temp: 21.5, env: { humidity: 40, pressure: 1013.25 } });
    await expect(rows(page).first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  for (let seq = 1; seq <= 5; seq++) await publish(device, `devices/${id}/telemetry`, { temp: 21.5 + seq, seq });
  await expect(rows(page).first()).toContainText('"seq":5');

  // One line each: a row is no taller than a line of text and its padding.
  const lineHeights = await stream(page)
    .locator(".stream__line")
    .evaluateAll((lines) => lines.map((line) => line.getBoundingClientRect().height));
  expect(lineHeights.length).toBeGreaterThanOrEqual(6);
  for (const height of lineHeights) expect(height).toBeLessThan(34);
  // Opening a row shows its payload pretty-printed.
  const newest = rows(page).first();
  await expect(newest.locator("pre")).toBeHidden();
  await newest.locator("summary").click();
  await expect(newest.locator("pre")).toBeVisible();
  await expect(newest.locator("pre")).toHaveText(JSON.stringify({ temp: 26.5, seq: 5 }, null, 2));
  await page.screenshot({ path: artifact("topic-explorer-compact.png"), fullPage: true });

  // Full rows, remembered by this browser.
  await compact.click();
  await expect(compact).toHaveAttribute("aria-pressed", "false");
  await expect(rows(page).first().locator("pre")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("button", { name: "Compact rows" })).toHaveAttribute("aria-pressed", "false");

  // The retained leaf: its value and the "retained" mark end inside the card.
  const card = page.locator(".explorer__tree");
  const leaf = tree(page).locator(`[data-topic="devices/${id}/state"]`);
  await expect(leaf).toContainText("retained");
  const cardBox = (await card.boundingBox())!;
  for (const part of [leaf.locator(".badge"), leaf.locator(".tree__last").first()]) {
    const box = (await part.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(cardBox.x + cardBox.width);
  }
});

test("an MQTT 5 message's properties show in the explorer and on the device's recent messages, correlation data as base64", async ({
  page,
  product,
}) => {
  await signInAs(page, admin);
  const id = uniqueDeviceId("props");
  const device = await connectDevice(product.mqttPort, await registerDevice(page, { id }), { protocolVersion: 5 });
  clients.push(device);
  const send = () =>
    device.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ temp: 21.5 }), {
      qos: 1,
      properties: {
        contentType: "application/json",
        correlationData: Buffer.from([0, 1, 0xfe, 0xff]),
        userProperties: { site: "north" },
      },
    });

  await page.goto(`/explorer?filter=${encodeURIComponent(`devices/${id}/#`)}`);
  await expect(async () => {
    await send();
    await expect(rows(page).first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const newest = rows(page).first();
  await expect(newest).toContainText("MQTT 5 properties");
  await newest.locator("summary").click();
  const properties = newest.getByLabel("MQTT 5 properties");
  await expect(properties).toContainText("Content type");
  await expect(properties).toContainText("application/json");
  await expect(properties).toContainText("Correlation data (base64)");
  await expect(properties).toContainText("AAH+/w==");
  await expect(properties).toContainText("User property site");
  await expect(properties).toContainText("north");
  await page.screenshot({ path: artifact("topic-explorer-mqtt5-properties.png"), fullPage: true });

  await page.goto(`/devices/${id}`);
  const recent = page.getByRole("table", { name: "Recent messages" });
  await expect(recent).toContainText("Correlation data (base64)");
  await expect(recent).toContainText("AAH+/w==");
  await expect(recent).toContainText("User property site");
});
