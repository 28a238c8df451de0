// Issue 14 in the browser: an admin adds a webhook channel in Settings → Notifications and
// sends a test that a real HTTP receiver verifies (signature included); a new alert shows in
// the navigation's count and as a toast on any page, without a reload.
import { deviceTopic } from "@fleetwatch/contracts";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, dropConnection, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact, expectSameDocument, markDocument } from "../support/page.ts";
import { expect, test } from "../support/test.ts";
import { startWebhookReceiver } from "../../test/support/webhook-receiver.ts";

// Detection is at once (the socket closes), then the default 5 s offline grace, one sweep
// and the live frame, with slack for a shared two-core machine.
const offlineAlertTimeoutMs = 5_000 + 1_000 + 6_000;

test.beforeEach(async ({ page }) => signInAs(page, admin));

test("an admin adds a webhook channel in Settings, sends a test a real receiver verifies, reads the delivery log, disables and deletes it", async ({
  page,
}) => {
  const secret = "e2e-webhook-secret-0123456789";
  const receiver = await startWebhookReceiver(secret);
  const name = `Ops webhook ${uniqueDeviceId("n")}`;
  try {
    await page.goto("/settings");
    const section = page.getByRole("region", { name: "Notifications" });
    await section.getByRole("button", { name: "Add a channel" }).click();
    const form = section.getByRole("region", { name: "Add a channel" });
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Type").selectOption("webhook");
    await form.getByLabel("URL").fill(receiver.url);
    await form.getByLabel("Signing secret").fill(secret);
    // Routed to a tag no device has: the test send is all this channel ever receives.
    await form.getByText("Routing (default: every alert event)").click();
    await form.getByLabel("Device tags (any of)").fill("e2e-no-such-tag");
    await form.getByRole("button", { name: "Add channel" }).click();

    const card = section.getByRole("listitem").filter({ has: page.getByRole("heading", { name }) });
    await expect(card).toContainText(receiver.url);
    await expect(card).toContainText("tags: e2e-no-such-tag");
    await expect(card).toContainText("Enabled");

    await card.getByRole("button", { name: "Send test" }).click();
    await expect(card.getByRole("status")).toContainText("Test delivered: 200");
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.signatureValid).toBe(true);
    expect(receiver.received[0]?.body).toMatchObject({ event: "test" });

    await card.getByRole("button", { name: "Delivery log" }).click();
    const log = card.getByRole("table", { name: `Delivery log of ${name}` });
    await expect(log.getByRole("row").nth(1)).toContainText("test");
    await expect(log.getByRole("row").nth(1)).toContainText("delivered");
    await expect(log.getByRole("row").nth(1)).toContainText("200");
    await page.screenshot({ path: artifact("notifications.png"), fullPage: true });

    await card.getByRole("button", { name: "Disable" }).click();
    await expect(card).toContainText("Disabled");
    await expect(card.getByRole("button", { name: "Enable" })).toBeVisible();

    await card.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete channel" }).click();
    await expect(section.getByRole("heading", { name })).toHaveCount(0);
  } finally {
    await receiver.close();
  }
});

test("a new alert shows in the navigation's count and as a toast that links to it, without a reload", async ({ page, product }) => {
  test.setTimeout(60_000);
  const login = await registerDevice(page, { id: uniqueDeviceId("toast") });
  const device = await connectDevice(product.mqttPort, login);
  await publish(device, deviceTopic.telemetry(login.id), { temp: 20 });

  // Any page: the count and the toasts are in the shell.
  await page.goto("/settings");
  await expect(page.getByRole("banner").getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await markDocument(page);
  const alertsLink = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Alerts/ });
  const badge = alertsLink.getByTestId("active-alert-count");
  const shown = async () =>
    (await badge.count()) === 0 ? 0 : Number(((await badge.locator("[aria-hidden='true']").textContent()) ?? "").replace("+", ""));
  // The count as the server has it, shown in the nav before anything happens.
  const summary = (await (await page.request.get("/api/fleet/summary")).json()) as { alerts: { active: number } };
  const before = summary.alerts.active;
  await expect.poll(shown).toBe(before);

  dropConnection(device);

  const toast = page
    .getByRole("region", { name: "New alerts" })
    .getByRole("status")
    .filter({ hasText: `critical alert on ${login.id}` });
  await expect(toast).toBeVisible({ timeout: offlineAlertTimeoutMs });
  await expect(toast).toContainText("Device went offline unexpectedly");
  await expect.poll(shown).toBeGreaterThan(before);
  await page.screenshot({ path: artifact("alert-toast.png") });

  await toast.getByRole("link", { name: "View alert" }).click();
  await expect(page).toHaveURL(/\/alerts\?alert=\d+$/);
  await expect(page.locator("tr[aria-current='true']")).toContainText(login.id);
  await expect(toast).toHaveCount(0);
  await expectSameDocument(page);

  // Another one, dismissed where it appears.
  const second = await registerDevice(page, { id: uniqueDeviceId("toast") });
  const other = await connectDevice(product.mqttPort, second);
  dropConnection(other);
  const otherToast = page
    .getByRole("region", { name: "New alerts" })
    .getByRole("status")
    .filter({ hasText: `critical alert on ${second.id}` });
  await expect(otherToast).toBeVisible({ timeout: offlineAlertTimeoutMs });
  await otherToast.getByRole("button", { name: "Dismiss" }).click();
  await expect(otherToast).toHaveCount(0);
  await expectSameDocument(page);
});
