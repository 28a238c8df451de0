// Charts that never lie (issue 16), against the built product with a real MQTT client
// publishing known values: the latest value is the last reading sent, a silence is a break in
// the line, straight segments only, the same buckets after a reload, and axis labels that fit.
// Readings carry explicit `ts` times, so a two-minute gap takes no two minutes to make.
import type { Locator, Page, Response } from "@playwright/test";
import type { MqttClient } from "mqtt";
import type { TelemetrySeries } from "@fleetwatch/contracts";
import { admin, signInAs } from "../support/accounts.ts";
import { connectDevice, publish, registerDevice, uniqueDeviceId } from "../support/devices.ts";
import { latestReading, liveChart } from "../support/locators.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const history = (page: Page) => page.getByRole("region", { name: "History", exact: true });
const historyChart = (page: Page) => history(page).locator("figure.history-chart");

/** The drawn line's path: one `M` per unbroken segment, `L` for each straight step. */
const linePath = async (chart: Locator) => (await chart.locator(".recharts-line-curve").getAttribute("d")) ?? "";
const segments = (d: string) => d.match(/M/g)?.length ?? 0;
/** The value axis' labels (Recharts draws tick labels in a layer of their own, outside the axis group). */
const valueTicks = (chart: Locator) => chart.locator('text.recharts-cartesian-axis-tick-value[orientation="left"]');
/** Straight segments only: no curve command (C, Q, S) that could swing past the readings. */
const STRAIGHT_ONLY = /^(M[\d.,-]+(L[\d.,-]+)*)+$/;

/** The history series the page asked for (300 buckets over the chosen range). */
const isHistoryResponse = (response: Response) => response.url().includes("/telemetry?") && response.url().includes("maxPoints=300");

let client: MqttClient | undefined;
test.afterEach(disconnect);

test.beforeEach(async ({ page }) => signInAs(page, admin));

async function deviceWithReadings(page: Page, mqttPort: number, prefix: string, readings: { ts: number; [metric: string]: number }[]) {
  const id = uniqueDeviceId(prefix);
  client = await connectDevice(mqttPort, await registerDevice(page, { id }));
  for (const reading of readings) await publish(client, `devices/${id}/telemetry`, reading);
  return id;
}

/** A clean DISCONNECT: no offline alert for other specs' alert lists. */
async function disconnect(): Promise<void> {
  await client?.endAsync();
  client = undefined;
}

test("the live chart's latest value is the last reading the device sent, with its own time, not its bucket's average", async ({
  page,
  product,
}) => {
  // Both readings in one second: one bucket, whose average (28.6) the device never sent.
  const second = Math.floor(Date.now() / 1000) * 1000 - 10_000;
  const id = await deviceWithReadings(page, product.mqttPort, "latest", [
    { temp: 35.2, ts: second + 100 },
    { temp: 22.0, ts: second + 500 },
  ]);

  await page.goto(`/devices/${id}`);
  await expect(latestReading(page, "temp")).toHaveText("22");
  const caption = liveChart(page, "temp").locator("figcaption");
  await expect(caption).toContainText("latest 22 at");
  await expect(caption.locator("time")).toHaveAttribute("datetime", new Date(second + 500).toISOString());
  await expect(caption).not.toContainText("28.6");
});

test("a two-minute silence is a break in the line, drawn with straight segments only, live and in the history", async ({
  page,
  product,
}) => {
  const start = Date.now() - 8 * 60_000;
  const before = Array.from({ length: 10 }, (_, i) => ({ temp: 20 + (i % 3), ts: start + i * 5_000 }));
  // The last reading before the gap is at +45 s; the next at +165 s: two minutes of silence.
  const after = Array.from({ length: 10 }, (_, i) => ({ temp: 19.52 + (i % 4), ts: start + 165_000 + i * 5_000 }));
  const id = await deviceWithReadings(page, product.mqttPort, "gap", [...before, ...after]);

  await page.goto(`/devices/${id}`);
  const live = liveChart(page, "temp");
  await expect(live.locator(".ts-chart__dot")).toHaveCount(20);
  const liveLine = await linePath(live);
  expect(liveLine).toMatch(STRAIGHT_ONLY);
  expect(segments(liveLine)).toBe(2);

  // The last hour in 15-second buckets: readings every 5 s fill each bucket, the silence none.
  await expect(history(page).locator(".history-range")).toContainText("of 15 s each");
  const historyLine = await linePath(historyChart(page));
  expect(historyLine).toMatch(STRAIGHT_ONLY);
  expect(segments(historyLine)).toBe(2);
  // The min–max band breaks with the line.
  expect(segments((await historyChart(page).locator(".recharts-area-area").getAttribute("d")) ?? "")).toBe(2);
  await page.screenshot({ path: artifact("device-page-gap.png"), fullPage: true });
});

test("reloading the page gives the same buckets, each drawn inside its own interval", async ({ page, product }) => {
  const start = Date.now() - 30 * 60_000;
  const id = await deviceWithReadings(
    page,
    product.mqttPort,
    "buckets",
    Array.from({ length: 40 }, (_, i) => ({ temp: 15 + ((i * 7) % 11), ts: start + i * 23_000 })),
  );

  const load = async () => {
    const [response] = await Promise.all([page.waitForResponse(isHistoryResponse), page.goto(`/devices/${id}`)]);
    return (await response.json()) as TelemetrySeries;
  };
  const first = await load();
  await expect(historyChart(page).locator(".ts-chart__dot")).toHaveCount(first.points.length);
  // The reload asks for a range that starts a little later, as any real reload does: buckets
  // that started at `from` would all move.
  const second = await load();

  expect(second.from).not.toBe(first.from);
  expect(second.bucketMs).toBe(first.bucketMs);
  expect(second.bucketOrigin).toBe("1970-01-01T00:00:00.000Z");
  expect(second.points.map((point) => point.time)).toEqual(first.points.map((point) => point.time));
  expect(second.points).toEqual(first.points);
  for (const point of second.points) {
    expect(Date.parse(point.time) % second.bucketMs).toBe(0);
    expect(Date.parse(point.at)).toBeGreaterThanOrEqual(Date.parse(point.time));
    expect(Date.parse(point.at)).toBeLessThan(Date.parse(point.time) + second.bucketMs);
  }
});

test("axis labels fit in the chart, never repeat, and use the precision of their step", async ({ page, product }) => {
  const start = Date.now() - 5 * 60_000;
  const id = await deviceWithReadings(
    page,
    product.mqttPort,
    "axis",
    [83.178, 19.52, 51.6, 51.64, 83.1, 20.05].map((value, i) => ({ wide: value, narrow: 51.52 + i * 0.13, ts: start + i * 10_000 })),
  );
  await page.goto(`/devices/${id}`);

  for (const metric of ["wide", "narrow"]) {
    const chart = liveChart(page, metric);
    await expect(chart.locator(".ts-chart__dot")).toHaveCount(6);
    const frame = (await chart.locator(".ts-chart").boundingBox())!;
    const ticks = valueTicks(chart);
    const labels = await ticks.allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(labels).size).toBe(labels.length);
    for (const box of await ticks.evaluateAll((nodes) => nodes.map((node) => node.getBoundingClientRect().toJSON() as DOMRect)))
      expect(box.x).toBeGreaterThanOrEqual(frame.x);
    // One precision per axis, no more than the step needs: 20, 40 … or 51.6, 51.8 …
    const decimals = new Set(labels.map((label) => label.split(/[.,]/)[1]?.length ?? 0));
    expect(decimals.size).toBe(1);
  }
  // 19.52 to 83.178: whole numbers (no "83.178" to cut); 51.52 to 52.17: tenths (no "51.6" twice).
  expect((await valueTicks(liveChart(page, "wide")).allTextContents()).every((label) => /^\d+$/.test(label))).toBe(true);
  expect((await valueTicks(liveChart(page, "narrow")).allTextContents()).every((label) => /^\d+[.,]\d$/.test(label))).toBe(true);
});

test("the device page says why a telemetry message gave no readings, and what format would", async ({ page, product }) => {
  const id = uniqueDeviceId("raw");
  client = await connectDevice(product.mqttPort, await registerDevice(page, { id }));
  await publish(client, `devices/${id}/telemetry`, "temp=21.5");
  await page.goto(`/devices/${id}`);

  const note = page.getByRole("region", { name: "Live readings" }).getByRole("note", { name: "Telemetry not in the expected format" });
  await expect(note).toContainText(`the latest payload on devices/${id}/telemetry is not JSON`);
  await expect(note).toContainText("temp=21.5");
  await expect(note).toContainText('{"temp": 21.5, "env": {"humidity": 40}, "ts": 1732406400000}');

  // A JSON document now: readings, and the note goes.
  await publish(client, `devices/${id}/telemetry`, { temp: 21.5 });
  await expect(latestReading(page, "temp")).toHaveText("21.5");
  await expect(note).toHaveCount(0);
});
