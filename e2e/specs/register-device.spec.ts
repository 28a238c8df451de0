// Issue 5, flows 1 and 2: an admin signs in through the form, registers a device in the
// wizard, reads its credentials off the page, and a real MQTT client using them publishes
// telemetry, which the wizard shows arriving; then the device page shows the next value and
// its chart point, and the fleet page shows the device online, all without a reload.
import type { Page } from "@playwright/test";
import type { MqttClient } from "mqtt";
import { admin, ensureViewer, signInAs, viewer } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact, markDocument, expectSameDocument } from "../support/page.ts";
import { fleetDeviceRow, latestReading, liveChart } from "../support/locators.ts";
import { expect, test } from "../support/test.ts";

const credential = (page: Page, label: string) => page.getByLabel(label, { exact: true }).inputValue();

let client: MqttClient | undefined;
test.afterEach(async () => {
  await client?.endAsync(true);
  client = undefined;
});

test("an admin registers a device in the wizard, a real MQTT client connects with the credentials from the page, and its first message appears live", async ({
  page,
  product,
}) => {
  const deviceId = uniqueDeviceId("wizard");

  // Sign in through the real form; the page asked for is where it lands.
  await page.goto("/devices/new");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in to Fleetwatch");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/devices/new");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Register a device");
  await markDocument(page);

  // Step 1: name, id and tags.
  await page.getByLabel("Name").fill("Wizard boiler");
  await page.getByLabel("Device id (optional)").fill(deviceId);
  await page.getByLabel("Tags (optional)").fill("e2e, wizard");
  await page.getByRole("button", { name: "Register device" }).click();

  // Step 2: the credentials, read from the page as an operator would copy them.
  await expect(page.getByRole("heading", { name: "Step 2 of 3: Copy its credentials" })).toBeFocused();
  const login = {
    id: await credential(page, "Client id"),
    username: await credential(page, "Username"),
    password: await credential(page, "Password"),
  };
  const endpoint = new URL(await credential(page, "MQTT endpoint"));
  expect(login.id).toBe(deviceId);
  expect(login.username).toBe(deviceId);
  expect(login.password.length).toBeGreaterThanOrEqual(32);
  expect(Number(endpoint.port)).toBe(product.mqttPort);
  await expect(page.getByRole("button", { name: "Copy password" })).toBeVisible();

  // The snippets carry the same values; the tabs work from the keyboard.
  const code = page.getByRole("tabpanel");
  await expect(code).toContainText(`-P ${login.password}`);
  await expect(code).toContainText(`-t devices/${deviceId}/telemetry`);
  // (exact: the MQTT 5 variants' tabs are named after the same clients.)
  await page.getByRole("tab", { name: "mosquitto_pub", exact: true }).focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "MQTT.js", exact: true })).toHaveAttribute("aria-selected", "true");
  await expect(code).toContainText(`password: "${login.password}"`);
  await page.keyboard.press("End");
  await expect(page.getByRole("tab", { name: "Arduino / ESP32" })).toBeFocused();
  await expect(code).toContainText(`const uint16_t MQTT_PORT = ${product.mqttPort};`);
  await page.screenshot({ path: artifact("register-device-credentials.png"), fullPage: true });

  // Step 3: waiting, then the device's first message arrives over the live channel.
  await page.getByRole("button", { name: "Next: wait for its first message" }).click();
  const firstMessage = page.getByRole("region", { name: "First message" });
  await expect(firstMessage.getByRole("status")).toContainText(`Waiting for the first message from ${deviceId}`);

  client = await connectDevice(Number(endpoint.port), login);
  await publish(client, `devices/${deviceId}/telemetry`, { temperature: 22.5, humidity: 41 });

  await expect(firstMessage.getByRole("status")).toContainText("Received at");
  await expect(firstMessage.getByText(`devices/${deviceId}/telemetry`, { exact: true })).toBeVisible();
  // Pretty-printed: one field per line.
  await expect(firstMessage.getByLabel("Payload")).toHaveText('{\n  "temperature": 22.5,\n  "humidity": 41\n}');
  await page.screenshot({ path: artifact("register-device.png"), fullPage: true });

  await firstMessage.getByRole("link", { name: "Open the device page" }).click();
  await expect(page).toHaveURL(`/devices/${deviceId}`);
  await expectSameDocument(page);

  // Flow 2 goes on in the same document: the device page shows the value and a chart point
  // for the next reading as it arrives…
  await expect(latestReading(page, "temperature")).toHaveText("22.5");
  await publish(client, `devices/${deviceId}/telemetry`, { temperature: 23.75, humidity: 42 });
  await expect(latestReading(page, "temperature")).toHaveText("23.75");
  const chart = liveChart(page, "temperature");
  await expect(chart.locator("figcaption")).toContainText("latest 23.75");
  await expect(chart.locator(".ts-chart__dot").last()).toBeVisible();

  // …and the fleet page lists it online.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Fleet overview" }).click();
  await page.getByRole("search", { name: "Filter devices" }).getByRole("searchbox", { name: "Search" }).fill(deviceId);
  await expect(fleetDeviceRow(page, "Wizard boiler")).toContainText("Online");
  await expectSameDocument(page);
});

test("the wizard names the field at fault: an invalid id before sending, a taken id from the server's 409", async ({ page }) => {
  await signInAs(page, admin);
  const taken = uniqueDeviceId("taken");
  await registerDevice(page, { id: taken });
  await page.goto("/devices/new");

  const id = page.getByLabel("Device id (optional)");
  await page.getByLabel("Name").fill("Second boiler");
  await id.fill("Not_A_Slug");
  await page.getByRole("button", { name: "Register device" }).click();
  await expect(id).toHaveAttribute("aria-invalid", "true");
  await expect(id).toBeFocused();
  await expect(id).toHaveAccessibleDescription(/"Not_A_Slug" is not a valid id/);

  await id.fill(taken);
  await expect(id).not.toHaveAttribute("aria-invalid");
  await page.getByRole("button", { name: "Register device" }).click();
  await expect(id).toHaveAttribute("aria-invalid", "true");
  await expect(id).toHaveAccessibleDescription(new RegExp(`A device with id ${taken} exists already`));
  await expect(page.getByRole("heading", { name: /Step 1 of 3/ })).toBeVisible();
});

test("a viewer who opens /devices/new is told it needs the operator or admin role and gets no form", async ({ page, product }) => {
  await ensureViewer(page.request, product.baseUrl);
  await signInAs(page, viewer);
  await page.goto("/devices/new");

  await expect(page.getByRole("alert")).toContainText("You need the operator or admin role to register devices");
  await expect(page.getByRole("textbox")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Register device" })).toHaveCount(0);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Register a device" })).toHaveCount(0);
});

test("the wizard explains a first telemetry message that is not JSON, and shows the format it expects", async ({ page, product }) => {
  await signInAs(page, admin);
  const deviceId = uniqueDeviceId("wizard-raw");
  await page.goto("/devices/new");
  await page.getByLabel("Name").fill("Raw sensor");
  await page.getByLabel("Device id (optional)").fill(deviceId);
  await page.getByRole("button", { name: "Register device" }).click();
  const password = await credential(page, "Password");
  await page.getByRole("button", { name: "Next: wait for its first message" }).click();
  const firstMessage = page.getByRole("region", { name: "First message" });
  await expect(firstMessage.getByRole("status")).toContainText("Waiting for the first message");

  client = await connectDevice(product.mqttPort, { id: deviceId, username: deviceId, password });
  await publish(client, `devices/${deviceId}/telemetry`, "temp=21.5");

  const note = firstMessage.getByRole("note", { name: "Telemetry not in the expected format" });
  await expect(note).toContainText(`the latest payload on devices/${deviceId}/telemetry is not JSON`);
  await expect(note).toContainText('{"temp": 21.5, "env": {"humidity": 40}, "ts": 1732406400000}');
  await page.screenshot({ path: artifact("register-device-not-json.png"), fullPage: true });
});
