// Threshold rules on real telemetry: raised after their hold duration (also across a
// restart), resolved when the condition clears, one open alert per device and rule,
// acknowledgement, rule CRUD, pagination, and the live events. Each block raises the alerts
// it asserts on, on devices of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { PLATFORM_EVENTS_FILTER, type Alert, type AlertRule, type PlatformEvent } from "@fleetwatch/contracts";
import { loadConfig } from "../src/config.ts";
import { startFleetwatch, type Fleetwatch } from "../src/server.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { testAdmin } from "../../../test/support/fleetwatch.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { waitFor } from "../../../test/support/wait.ts";

let database: TestDatabase;
let fleetwatch: Fleetwatch;
const clients: MqttClient[] = [];
const events: PlatformEvent[] = [];
// The test admin's API token; tokens live in the database, so it outlasts the restart below.
let token: string;

async function start(): Promise<Fleetwatch> {
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    MQTT_PORT: "0",
    DATABASE_URL: database.url,
    ADMIN_EMAIL: testAdmin.email,
    ADMIN_PASSWORD: testAdmin.password,
    ALERT_SWEEP_MS: "100",
    ALERT_OFFLINE_GRACE_MS: "200",
  });
  const server = await startFleetwatch(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
  server.broker.subscribe(
    PLATFORM_EVENTS_FILTER,
    (packet, done) => {
      events.push(JSON.parse(packet.payload.toString()) as PlatformEvent);
      done();
    },
    () => undefined,
  );
  return server;
}

beforeAll(async () => {
  database = await createTestDatabase();
  fleetwatch = await start();
  for (const [id, name] of [
    ["boiler-1", "Boiler 1"],
    ["freezer-1", "Freezer 1"],
    ["freezer-2", "Freezer 2"],
    ["slow-1", "Slow 1"],
  ] as const) {
    await registerDevice(database.url, id, name);
  }
  await fleetwatch.database.prisma.device.updateMany({ where: { id: { in: ["freezer-1", "freezer-2"] } }, data: { tags: ["freezer"] } });
  token = await apiToken(httpUrl());
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await fleetwatch.close();
  await database.drop();
});

const httpUrl = () => `http://127.0.0.1:${fleetwatch.ports.http}`;

async function api<T>(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  url: string,
  body?: object,
  as = token,
): Promise<{ status: number; body: T }> {
  const response = await fleetwatch.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${as}` },
    ...(body ? { payload: body } : {}),
  });
  return { status: response.statusCode, body: (response.body ? response.json() : null) as T };
}

async function device(id: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${fleetwatch.ports.mqtt}`, deviceConnectOptions(id));
  clients.push(client);
  return client;
}

const createRule = async (rule: object) => {
  const response = await api<AlertRule>("POST", "/api/alert-rules", rule);
  expect(response.status).toBe(201);
  return response.body;
};
const openAlerts = async (deviceId: string) =>
  (await api<{ items: Alert[] }>("GET", `/api/alerts?state=open&deviceId=${deviceId}`)).body.items;
const alertsOf = async (deviceId: string) => (await api<{ items: Alert[] }>("GET", `/api/alerts?deviceId=${deviceId}`)).body.items;

describe("threshold rules", () => {
  it("raise an alert once the condition has held for its duration, and resolve it when it clears", async () => {
    const rule = await createRule({
      name: "Boiler too hot",
      deviceId: "boiler-1",
      metric: "water.temp",
      comparison: ">",
      threshold: 90,
      durationMs: 600,
      severity: "critical",
    });
    const boiler = await device("boiler-1");
    for (const temp of [95, 96, 97])
      await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ water: { temp } }), { qos: 1 });

    await expect
      .poll(() => openAlerts("boiler-1"), { timeout: 10_000 })
      .toMatchObject([
        {
          kind: "threshold",
          ruleId: rule.id,
          state: "active",
          severity: "critical",
          message: "Boiler too hot: water.temp > 90 (value 97)",
          value: 97,
        },
      ]);
    // Held for the duration: raised no earlier than 600 ms after the condition started.
    const { rows } = await fleetwatch.database.pool.query(
      "SELECT (a.raised_at - s.pending_since) >= interval '600 milliseconds' AS held FROM alerts a JOIN alert_rule_states s ON s.rule_id = a.rule_id AND s.device_id = a.device_id WHERE a.rule_id = $1",
      [rule.id],
    );
    expect(rows).toEqual([{ held: true }]);

    // More violating readings do not open a second alert.
    await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ water: { temp: 99 } }), { qos: 1 });
    await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ water: { temp: 70 } }), { qos: 1 });
    await expect.poll(() => alertsOf("boiler-1")).toMatchObject([{ state: "resolved" }]);
    expect((await alertsOf("boiler-1"))[0]?.resolvedAt).not.toBeNull();
    const kinds = events.filter((e) => "alert" in e && e.alert.ruleId === rule.id).map((e) => e.kind);
    expect(kinds).toEqual(["alert.raised", "alert.resolved"]);
  });

  it("apply to every device with the rule's tag, each with its own alert", async () => {
    await createRule({ name: "Freezer warm", tag: "freezer", metric: "temp", comparison: ">=", threshold: -10 });
    const one = await device("freezer-1");
    const two = await device("freezer-2");
    await one.publishAsync("devices/freezer-1/telemetry", JSON.stringify({ temp: -5 }), { qos: 1 });
    await two.publishAsync("devices/freezer-2/telemetry", JSON.stringify({ temp: -20 }), { qos: 1 });
    await two.publishAsync("devices/freezer-2/telemetry", JSON.stringify({ temp: -10 }), { qos: 1 });
    await expect.poll(() => openAlerts("freezer-1")).toHaveLength(1);
    await expect.poll(() => openAlerts("freezer-2")).toHaveLength(1);
    // The boiler has no freezer tag. A device's readings are evaluated in the order they
    // arrive, so once a later reading's alert has come and gone, this one's evaluation is over.
    const marker = await createRule({ name: "Boiler marker", deviceId: "boiler-1", metric: "marker", comparison: ">", threshold: 0 });
    const boiler = await device("boiler-1");
    await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ temp: 50 }), { qos: 1 });
    await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ marker: 1 }), { qos: 1 });
    await expect.poll(() => openAlerts("boiler-1")).toMatchObject([{ ruleId: marker.id }]);
    await boiler.publishAsync("devices/boiler-1/telemetry", JSON.stringify({ marker: 0 }), { qos: 1 });
    await expect
      .poll(async () => (await alertsOf("boiler-1")).filter((a) => a.ruleId === marker.id))
      .toMatchObject([{ state: "resolved" }]);
    expect(await openAlerts("boiler-1")).toEqual([]);
  });

  it("keep counting a hold duration across a restart, and raise without a new reading", async () => {
    await createRule({ name: "Slow drift", deviceId: "slow-1", metric: "level", comparison: "<", threshold: 10, durationMs: 1500 });
    const slow = await device("slow-1");
    await slow.publishAsync("devices/slow-1/telemetry", JSON.stringify({ level: 3 }), { qos: 1 });
    await expect
      .poll(
        async () =>
          (
            await fleetwatch.database.pool.query(
              "SELECT 1 FROM alert_rule_states s JOIN devices d ON d.id = s.device_id WHERE d.id = 'slow-1'",
            )
          ).rowCount,
      )
      .toBe(1);
    await slow.endAsync(true);
    await fleetwatch.close();

    fleetwatch = await start();
    await expect.poll(() => openAlerts("slow-1"), { timeout: 10_000 }).toMatchObject([{ kind: "threshold", value: 3 }]);
  });
});

describe("alerts API", () => {
  // Four docks with a warm-dock alert each: dock-2's resolved, the others active.
  beforeAll(async () => {
    const docks = ["dock-1", "dock-2", "dock-3", "dock-4"];
    for (const id of docks) await registerDevice(database.url, id);
    await fleetwatch.database.prisma.device.updateMany({ where: { id: { in: docks } }, data: { tags: ["dock"] } });
    await createRule({ name: "Dock warm", tag: "dock", metric: "temp", comparison: ">=", threshold: -10 });
    for (const id of docks) await (await device(id)).publishAsync(`devices/${id}/telemetry`, JSON.stringify({ temp: -5 }), { qos: 1 });
    for (const id of docks) await waitFor(async () => (await alertsOf(id)).length === 1, `${id}'s alert`);
    await (await device("dock-2")).publishAsync("devices/dock-2/telemetry", JSON.stringify({ temp: -20 }), { qos: 1 });
    await waitFor(async () => (await openAlerts("dock-2")).length === 0, "dock-2's alert to resolve");
  });

  it("acknowledges an active alert once, by the signed-in operator and when; refuses resolved and unknown alerts", async () => {
    const [alert] = await openAlerts("dock-1");
    expect(alert).toBeDefined();
    // A body that claims who acknowledges is refused: the acknowledger is the signed-in operator.
    const claimed = await api<{ statusCode: number }>("POST", `/api/alerts/${alert!.id}/ack`, { by: "alice" });
    expect(claimed.status).toBe(400);
    expect(claimed.body.statusCode).toBe(400);
    expect((await openAlerts("dock-1"))[0]).toMatchObject({ id: alert!.id, state: "active", acknowledgedBy: null });

    const acked = await api<Alert>("POST", `/api/alerts/${alert!.id}/ack`, {});
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ id: alert!.id, state: "acknowledged", acknowledgedBy: testAdmin.email });
    expect(acked.body.acknowledgedAt).not.toBeNull();
    await expect.poll(() => events.some((e) => e.kind === "alert.acknowledged" && e.alert.id === alert!.id)).toBe(true);

    // Once: a second operator acknowledging later does not take it over.
    const bob = { email: "bob@test.local", password: "bob-password-1" };
    expect((await call(httpUrl(), "POST", "/api/users", { token, body: { ...bob, role: "admin" } })).status).toBe(201);
    const again = await api<Alert>("POST", `/api/alerts/${alert!.id}/ack`, {}, await apiToken(httpUrl(), bob.email, bob.password));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ state: "acknowledged", acknowledgedBy: testAdmin.email, acknowledgedAt: acked.body.acknowledgedAt });

    const [resolved] = await alertsOf("dock-2");
    expect((await api("POST", `/api/alerts/${resolved!.id}/ack`, {})).status).toBe(409);
    expect((await api("POST", "/api/alerts/999999/ack", {})).status).toBe(404);
    expect((await api("POST", "/api/alerts/abc/ack", {})).status).toBe(400);
    expect((await api("POST", `/api/alerts/${alert!.id}/ack`, { by: "" })).status).toBe(400);
    expect((await api("POST", `/api/alerts/${alert!.id}/ack`, { by: testAdmin.email })).status).toBe(400);
  });

  it("an acknowledged alert still resolves when its condition clears", async () => {
    const [alert] = await openAlerts("dock-3");
    expect((await api<Alert>("POST", `/api/alerts/${alert!.id}/ack`, {})).status).toBe(200);
    await (await device("dock-3")).publishAsync("devices/dock-3/telemetry", JSON.stringify({ temp: -25 }), { qos: 1 });
    await expect.poll(() => openAlerts("dock-3")).toEqual([]);
    expect((await alertsOf("dock-3"))[0]).toMatchObject({ state: "resolved", acknowledgedBy: testAdmin.email });
  });

  it("lists alerts newest first by state, a page at a time", async () => {
    const all = (await api<{ items: Alert[]; nextCursor: number | null }>("GET", "/api/alerts?limit=200")).body;
    expect(all.items.length).toBeGreaterThanOrEqual(4);
    expect(all.nextCursor).toBeNull();
    const seen: number[] = [];
    let cursor: number | null = null;
    do {
      const page: { items: Alert[]; nextCursor: number | null } = (
        await api<{ items: Alert[]; nextCursor: number | null }>("GET", `/api/alerts?limit=2${cursor ? `&cursor=${cursor}` : ""}`)
      ).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.items.map((a) => a.id));
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    const resolved = (await api<{ items: Alert[] }>("GET", "/api/alerts?state=resolved")).body.items;
    expect(resolved.length).toBeGreaterThan(0);
    expect(resolved.every((a) => a.state === "resolved")).toBe(true);
    expect((await api("GET", "/api/alerts?state=bogus")).status).toBe(400);
  });

  it("the fleet summary counts open alerts by state", async () => {
    const open = (await api<{ items: Alert[] }>("GET", "/api/alerts?state=open")).body.items;
    const summary = (await api<{ alerts: { active: number; acknowledged: number } }>("GET", "/api/fleet/summary")).body;
    expect(summary.alerts.active + summary.alerts.acknowledged).toBe(open.length);
  });
});

describe("alert rules API", () => {
  it("creates, reads, updates and deletes rules; deleting resolves their open alerts", async () => {
    const rule = await createRule({ name: "Boiler pressure", deviceId: "boiler-1", metric: "pressure", comparison: "!=", threshold: 2 });
    expect(rule).toMatchObject({ deviceId: "boiler-1", tag: null, durationMs: 0, severity: "warning", enabled: true });
    expect((await api<AlertRule>("GET", `/api/alert-rules/${rule.id}`)).body).toEqual(rule);
    expect((await api<{ items: AlertRule[] }>("GET", "/api/alert-rules")).body.items.map((r) => r.id)).toContain(rule.id);

    const updated = await api<AlertRule>("PATCH", `/api/alert-rules/${rule.id}`, { threshold: 3, severity: "info" });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: rule.id, threshold: 3, severity: "info", name: "Boiler pressure" });

    await (await device("boiler-1")).publishAsync("devices/boiler-1/telemetry", JSON.stringify({ pressure: 5 }), { qos: 1 });
    await expect.poll(async () => (await openAlerts("boiler-1")).filter((a) => a.ruleId === rule.id)).toHaveLength(1);

    expect((await api("DELETE", `/api/alert-rules/${rule.id}`)).status).toBe(204);
    expect((await api("GET", `/api/alert-rules/${rule.id}`)).status).toBe(404);
    expect((await api("DELETE", `/api/alert-rules/${rule.id}`)).status).toBe(404);
    expect(await openAlerts("boiler-1")).toEqual([]);
    expect((await alertsOf("boiler-1"))[0]).toMatchObject({
      state: "resolved",
      ruleId: null,
      message: "Boiler pressure: pressure != 3 (value 5)",
    });
  });

  it("rejects rules that are not for exactly one device or tag, unknown devices and bad fields with 400", async () => {
    const base = { name: "r", metric: "temp", comparison: ">", threshold: 1 };
    for (const body of [
      base,
      { ...base, deviceId: "boiler-1", tag: "freezer" },
      { ...base, deviceId: "no-such-device" },
      { ...base, deviceId: "boiler-1", comparison: "=>" },
      { ...base, deviceId: "boiler-1", durationMs: -1 },
      { ...base, deviceId: "boiler-1", threshold: "hot" },
      { ...base, deviceId: "boiler-1", extra: true },
    ]) {
      const response = await api<{ statusCode: number; message: string }>("POST", "/api/alert-rules", body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.statusCode).toBe(400);
    }
    expect((await api("PATCH", "/api/alert-rules/999999", { threshold: 1 })).status).toBe(404);
    expect((await api("PATCH", "/api/alert-rules/1", {})).status).toBe(400);
  });
});
