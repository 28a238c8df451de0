// Every page from a phone (390 × 844) to a wide screen (1,440 px), with data on it: no page
// scrolls sideways on a phone, the menu reaches every page, Acknowledge is in reach, and a
// wide screen's width is used. Screenshots of each page at both sizes are kept in e2e/artifacts.
import type { Page } from "@playwright/test";
import { deviceTopic } from "@fleetwatch/contracts";
import { admin, csrfToken, signInAs } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const phone = { width: 390, height: 844 };
const wide = { width: 1440, height: 900 };

/** The page is no wider than the window: nothing makes it scroll sideways. */
async function expectNoSidewaysScroll(page: Page, name: string): Promise<void> {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const root = document.documentElement;
    // The element that sticks out furthest, to name in a failure.
    let widest = "";
    let right = root.clientWidth;
    for (const element of Array.from(document.body.querySelectorAll("*"))) {
      const box = element.getBoundingClientRect();
      if (box.right > right && getComputedStyle(element).position !== "fixed") {
        right = box.right;
        widest = `${element.tagName.toLowerCase()}.${String(element.className)}`;
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, widest };
  });
  expect(scrollWidth, `${name} is ${scrollWidth} px wide in a ${clientWidth} px window (widest: ${widest})`).toBeLessThanOrEqual(
    clientWidth,
  );
}

interface Visit {
  name: string;
  path: string;
  /** What shows once the page has its data. */
  ready: (page: Page) => Promise<void>;
}

test("every page works at 390 × 844 without sideways scrolling, and uses a 1,440 px screen's width", async ({ page, product }) => {
  test.setTimeout(120_000);
  await signInAs(page, admin);

  // Something on every page: a device with readings, retained state and an active alert.
  const id = uniqueDeviceId("screens");
  const login = await registerDevice(page, { id, name: "Rooftop weather station with a long name", tags: ["roof", "weather", "outdoor"] });
  const rule = await page.request.post("/api/alert-rules", {
    data: { name: `Too hot on ${id}`, deviceId: id, metric: "env.temperature", comparison: ">", threshold: 30, severity: "critical" },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(rule.status(), await rule.text()).toBe(201);
  // Settings → Notifications with a channel whose URL is long and whose log has a failed try
  // (nothing listens on port 9: the test send is refused).
  const channel = await page.request.post("/api/notification-channels", {
    data: {
      name: `Phone-width webhook for ${id}`,
      type: "webhook",
      url: `http://127.0.0.1:9/a/rather/long/path/for/${id}/that/does/not/break/the/layout`,
      deviceTags: [`${id}-none`],
      severities: ["critical", "warning"],
    },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(channel.status(), await channel.text()).toBe(201);
  const channelId = ((await channel.json()) as { id: string }).id;
  const tested = await page.request.post(`/api/notification-channels/${channelId}/test`, {
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(((await tested.json()) as { ok: boolean }).ok).toBe(false);
  const device = await connectDevice(product.mqttPort, login);
  try {
    const start = Date.now() - 10 * 60_000;
    for (let i = 0; i < 30; i++)
      await publish(device, deviceTopic.telemetry(id), {
        env: { temperature: 21 + (i % 5) * 0.37, humidity: 40 + i },
        ts: start + i * 20_000,
      });
    await publish(device, deviceTopic.telemetry(id), { env: { temperature: 35.5, humidity: 44 } });
    await publish(
      device,
      deviceTopic.state(id),
      { firmware: "2.4.1", mode: "eco", note: "a-long-unbroken-value-".repeat(6) },
      { retain: true },
    );
    await expect
      .poll(
        async () =>
          ((await (await page.request.get(`/api/alerts?state=active&deviceId=${id}`)).json()) as { items: unknown[] }).items.length,
      )
      .toBe(1);

    // A dashboard with a chart, a value and the retained state of the device.
    const dashboard = await page.request.post("/api/dashboards", {
      data: {
        name: `Roof ${id}`,
        widgets: [
          {
            id: "chart",
            title: "Roof temperature",
            kind: "timeseries",
            layout: { x: 0, y: 0, w: 6, h: 4 },
            sources: [{ kind: "device", deviceId: id, metric: "env.temperature" }],
          },
          {
            id: "now",
            title: "Temperature now",
            kind: "value",
            layout: { x: 6, y: 0, w: 3, h: 2 },
            source: { kind: "device", deviceId: id, metric: "env.temperature" },
            unit: "°C",
            thresholds: { direction: "above", warning: 30 },
          },
          { id: "state", title: "Roof state", kind: "retained", layout: { x: 9, y: 0, w: 3, h: 4 }, deviceId: id },
        ],
      },
      headers: { "x-csrf-token": await csrfToken(page.request) },
    });
    expect(dashboard.status(), await dashboard.text()).toBe(201);
    const dashboardId = ((await dashboard.json()) as { id: string }).id;

    const main = page.getByRole("main");
    const visits: Visit[] = [
      {
        name: "fleet-overview",
        path: "/",
        ready: async (p) => {
          await expect(p.getByRole("table", { name: "Devices" })).toBeVisible();
          await expect(p.getByTestId("fleet-pulse").locator(".recharts-line-curve")).toHaveCount(3);
        },
      },
      { name: "dashboards", path: "/dashboards", ready: (p) => expect(p.getByRole("link", { name: `Roof ${id}` })).toBeVisible() },
      {
        name: "dashboard",
        path: `/dashboards/${dashboardId}`,
        ready: async (p) => {
          await expect(p.getByRole("region", { name: "Temperature now" }).locator("output")).toBeVisible();
          await expect(p.getByRole("region", { name: "Roof temperature" }).locator(".recharts-line-curve")).toBeVisible();
          await expect(p.getByRole("region", { name: "Roof state" })).toContainText("firmware");
        },
      },
      { name: "register-device", path: "/devices/new", ready: (p) => expect(p.getByLabel("Name")).toBeVisible() },
      {
        name: "import-devices",
        path: "/devices/import",
        ready: (p) => expect(p.getByRole("region", { name: "Import devices from CSV" })).toBeVisible(),
      },
      {
        name: "device",
        path: `/devices/${id}`,
        ready: async (p) => {
          await expect(p.locator("figure.history-chart .ts-chart__dot").first()).toBeVisible();
          await expect(p.getByRole("region", { name: "Presence" })).toContainText("uptime");
        },
      },
      {
        name: "topic-explorer",
        path: `/explorer?filter=${encodeURIComponent(`devices/${id}/#`)}`,
        ready: async (p) => {
          await expect(p.getByRole("list", { name: "Topics" })).toContainText("retained");
          // Messages arrive once the live subscription stands: publish until one shows.
          await expect(async () => {
            // Still above the rule's threshold: the alert stays open for the alerts page.
            await publish(device, deviceTopic.telemetry(id), { env: { temperature: 36.25, humidity: 45 } });
            await expect(p.getByRole("list", { name: "Messages" }).getByRole("listitem").first()).toBeVisible({ timeout: 1_000 });
          }).toPass({ timeout: 15_000 });
        },
      },
      {
        name: "clients",
        path: `/clients`,
        // The device above is connected (a card on a phone, a row on a wide screen).
        ready: (p) => expect(p.getByRole("main").locator(".clients-table")).toContainText(id),
      },
      { name: "alerts", path: "/alerts", ready: (p) => expect(p.getByRole("region", { name: "Open alerts" })).toContainText(id) },
      { name: "settings", path: "/settings", ready: (p) => expect(p.getByRole("region", { name: "Your API tokens" })).toBeVisible() },
      {
        name: "notifications",
        path: "/settings#notifications",
        ready: async (p) => {
          const card = p
            .getByRole("region", { name: "Notifications" })
            .getByRole("listitem")
            .filter({ hasText: `Phone-width webhook for ${id}` });
          await card.getByRole("button", { name: "Delivery log" }).click();
          await expect(card.locator("table")).toContainText("failed");
        },
      },
      { name: "not-found", path: "/no/such/page", ready: (p) => expect(p.getByRole("heading", { level: 1 })).toHaveText("Page not found") },
    ];

    for (const size of [phone, wide]) {
      await page.setViewportSize(size);
      const label = size === phone ? "390" : "1440";
      for (const visit of visits) {
        await page.goto(visit.path);
        await visit.ready(page);
        await expectNoSidewaysScroll(page, `${visit.name} at ${label} px`);
        if (size === wide) {
          // No ~1,000 px cap: the content runs nearly edge to edge.
          expect((await main.boundingBox())!.width, visit.name).toBeGreaterThan(1_350);
        }
        await page.screenshot({ path: artifact(`${visit.name}-${label}.png`), fullPage: true });
      }
    }

    const removed = await page.request.delete(`/api/notification-channels/${channelId}`, {
      headers: { "x-csrf-token": await csrfToken(page.request) },
    });
    expect(removed.status()).toBe(204);

    // Signed out: the sign-in page.
    await page.context().clearCookies();
    for (const [size, label] of [
      [phone, "390"],
      [wide, "1440"],
    ] as const) {
      await page.setViewportSize(size);
      await page.goto("/");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in to Fleetwatch");
      await expectNoSidewaysScroll(page, `sign-in at ${label} px`);
      await page.screenshot({ path: artifact(`sign-in-${label}.png`), fullPage: true });
    }
  } finally {
    await device.endAsync();
  }
});

test("on a phone the menu reaches every page, the theme and Sign out, and an alert's Acknowledge is in reach", async ({
  page,
  product,
}) => {
  await page.setViewportSize(phone);
  await signInAs(page, admin);
  const id = uniqueDeviceId("phone-ack");
  const login = await registerDevice(page, { id });
  const rule = await page.request.post("/api/alert-rules", {
    data: { name: `Hot ${id}`, deviceId: id, metric: "temp", comparison: ">", threshold: 30 },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(rule.status()).toBe(201);
  const device = await connectDevice(product.mqttPort, login);
  try {
    await publish(device, deviceTopic.telemetry(id), { temp: 31.5 });

    await page.goto("/");
    const menuButton = page.getByRole("button", { name: "Menu" });
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav).toBeHidden();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeHidden();
    await menuButton.click();
    await expect(menuButton).toHaveAttribute("aria-expanded", "true");
    await expect(page.getByRole("button", { name: "Sign out" })).toBeInViewport();
    await expect(page.getByLabel("Theme")).toBeInViewport();
    await page.screenshot({ path: artifact("menu-390.png") });
    // Following a link closes the menu.
    await nav.getByRole("link", { name: "Alerts" }).click();
    await expect(page).toHaveURL("/alerts");
    await expect(menuButton).toHaveAttribute("aria-expanded", "false");
    await expect(nav).toBeHidden();

    const card = page
      .getByRole("region", { name: "Open alerts" })
      .getByRole("row")
      .filter({ has: page.getByRole("link", { name: id, exact: true }) });
    const acknowledge = card.getByRole("button", { name: "Acknowledge" });
    await expect(acknowledge).toBeVisible();
    const box = (await acknowledge.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(phone.width);
    await acknowledge.click();
    await expect(card).toContainText(`Acknowledged by ${admin.email}`);
    await expectNoSidewaysScroll(page, "alerts with an acknowledged alert at 390 px");
  } finally {
    await device.endAsync();
  }
});

test("an admin's header is inline on a 1,440 px screen and folded behind Menu below it: never one part over another", async ({ page }) => {
  await signInAs(page, admin);
  for (const width of [1_280, 1_366, 1_440]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto("/");
    const nav = page.getByRole("navigation", { name: "Main" });
    if (width < 1_440) {
      await expect(nav).toBeHidden();
      await page.getByRole("button", { name: "Menu" }).click();
    }
    await expect(nav).toBeVisible();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
    const parts = await page.evaluate(() => {
      const header = document.querySelector(".app-header__inner")!;
      const selectors = [".brand", ".app-nav a", ".theme-switch", ".account__email", ".account .badge", ".account .button"];
      return selectors.flatMap((selector) =>
        Array.from(header.querySelectorAll<HTMLElement>(selector)).map((element) => {
          const box = element.getBoundingClientRect();
          return {
            name: `${selector} "${element.textContent?.trim() ?? ""}"`,
            left: box.left,
            right: box.right,
            top: box.top,
            bottom: box.bottom,
            // Text that does not fit its box is drawn over its neighbours (the address alone is cut, with an ellipsis).
            clipped: selector !== ".account__email" && element.scrollWidth > element.clientWidth + 1,
          };
        }),
      );
    });
    for (const part of parts) {
      expect(part.right, `${part.name} inside the ${width} px window`).toBeLessThanOrEqual(width);
      expect(part.clipped, `${part.name} drawn whole at ${width} px`).toBe(false);
    }
    for (const [i, a] of parts.entries())
      for (const b of parts.slice(i + 1)) {
        const overlap = a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
        expect(overlap, `${a.name} overlaps ${b.name} at ${width} px`).toBe(false);
      }
    await page.screenshot({ path: artifact(`header-admin-${width}.png`) });
  }
});
