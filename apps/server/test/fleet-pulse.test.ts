// The overview's pulse: every aggregate checked against known rows, and a real device's
// messages and connection counted as they happen. Over HTTP against a real server and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import type { FleetPulse, PulseSeries } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { call, login } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { waitFor } from "../../../test/support/wait.ts";

let server: TestServer;
let cookie: string;
const MIN = 60_000;
const HOUR = 60 * MIN;

beforeAll(async () => {
  // A grace period longer than the test, so the disconnection below stays pending (no event yet).
  server = await startTestServer({ ALERT_OFFLINE_GRACE_MS: String(3 * 3_600_000) });
  cookie = (await login(server.httpUrl)).cookie;
});
afterAll(() => server.close());

const pulse = async () => {
  const reply = await call<FleetPulse>(server.httpUrl, "GET", "/api/fleet/pulse", { headers: { cookie } });
  expect(reply.status).toBe(200);
  return reply.body;
};
const sql = (text: string, params: unknown[] = []) => adminQuery(server.database.url, text, params);
/** The value of the bucket holding `time`. */
const valueAt = (series: PulseSeries, time: number) => {
  const point = series.points.find((p) => Date.parse(p.time) <= time && time < Date.parse(p.time) + series.bucketMs);
  if (!point) throw new Error(`no bucket holds ${new Date(time).toISOString()}`);
  return point.value;
};

describe("GET /api/fleet/pulse", () => {
  it("aggregates known messages, presence changes and alerts into aligned buckets and ranked lists", async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms);
    for (const [id, online, lastSeen] of [
      ["pulse-a", true, at(0)],
      ["pulse-b", true, at(0)],
      ["pulse-c", false, at(5 * HOUR)],
      ["pulse-d", false, at(10 * MIN)],
      ["pulse-e", false, at(30 * HOUR)],
    ] as const) {
      await sql("INSERT INTO devices (id, name, online, last_seen_at, updated_at) VALUES ($1, $2, $3, $4, now())", [
        id,
        `Device ${id.slice(-1).toUpperCase()}`,
        online,
        lastSeen,
      ]);
    }
    // Messages: a sends 3 ten minutes ago, b 2 half an hour ago and 7 two hours ago (outside the hour).
    const message = (device: string, ago: number, n: number) =>
      sql(
        `INSERT INTO messages (received_at, device_id, topic, payload, qos, retain)
         SELECT $1, $2::text, 'devices/' || $2 || '/telemetry', '\\x7b7d', 0, false FROM generate_series(1, $3::int)`,
        [at(ago), device, n],
      );
    await message("pulse-a", 10 * MIN, 3);
    await message("pulse-b", 30 * MIN, 2);
    await message("pulse-b", 2 * HOUR, 7);
    // Presence: b connected 20 h ago; c connected 10 h ago and left 5 h ago; d connected 3 h
    // ago and left 10 minutes ago (still in its grace period: no event yet); a connected 2 h ago.
    const event = (device: string, online: boolean, ago: number) =>
      sql("INSERT INTO presence_events (device_id, online, reason, at) VALUES ($1, $2, $3, $4)", [
        device,
        online,
        online ? "connected" : "disconnected",
        at(ago),
      ]);
    await event("pulse-b", true, 20 * HOUR);
    await event("pulse-c", true, 10 * HOUR);
    await event("pulse-c", false, 5 * HOUR);
    await event("pulse-d", true, 3 * HOUR);
    await event("pulse-a", true, 2 * HOUR);
    await sql(
      `INSERT INTO device_presence (device_id, online, connection_id, node_id, changed_at, offline_reason, offline_pending)
       VALUES ('pulse-d', false, 'c1', 'gone-node', $1, 'disconnected', true)`,
      [at(10 * MIN)],
    );
    // Alerts: two raised 5 h ago (one resolved since), one 10 h ago (active), one 26 h ago (outside the day).
    const alert = (device: string, ago: number, state: string, key: string) =>
      sql(
        `INSERT INTO alerts (device_id, kind, rule_key, state, severity, message, raised_at) VALUES ($1, 'threshold', $4, $3, 'warning', $5, $2)`,
        [device, at(ago), state, key, `alert ${key}`],
      );
    await alert("pulse-a", 26 * HOUR, "resolved", "rule:1");
    await alert("pulse-a", 10 * HOUR, "active", "rule:2");
    await alert("pulse-b", 5 * HOUR, "resolved", "rule:3");
    await alert("pulse-c", 5 * HOUR + MIN, "active", "rule:4");

    const body = await pulse();

    expect(body.messageRate.bucketMs).toBe(MIN);
    expect(body.messageRate.points).toHaveLength(60);
    expect(body.messageRate.total).toBe(5);
    expect(valueAt(body.messageRate, now - 10 * MIN)).toBe(3);
    expect(valueAt(body.messageRate, now - 30 * MIN)).toBe(2);
    // Aligned to the epoch: every bucket starts on a whole minute.
    expect(body.messageRate.points.every((p) => Date.parse(p.time) % MIN === 0)).toBe(true);

    expect(body.topTalkers.map((d) => [d.deviceId, d.messages])).toEqual([
      ["pulse-a", 3],
      ["pulse-b", 2],
    ]);
    expect(body.topTalkers[0]).toMatchObject({ name: "Device A", online: true });
    // Longest silent first; never-seen and online devices are not silent.
    expect(body.silent.map((d) => d.deviceId)).toEqual(["pulse-e", "pulse-c", "pulse-d"]);

    expect(body.online.bucketMs).toBe(15 * MIN);
    expect(body.online.points).toHaveLength(96);
    expect(body.online.now).toBe(2);
    expect(valueAt(body.online, now)).toBe(2); // a, b
    expect(valueAt(body.online, now - 60 * MIN)).toBe(3); // a, b, d
    expect(valueAt(body.online, now - 150 * MIN)).toBe(2); // b, d
    expect(valueAt(body.online, now - 4 * HOUR)).toBe(1); // b
    expect(valueAt(body.online, now - 7 * HOUR)).toBe(2); // b, c
    expect(valueAt(body.online, now - 15 * HOUR)).toBe(1); // b
    expect(valueAt(body.online, now - 22 * HOUR)).toBe(0);

    expect(body.alertsRaised.bucketMs).toBe(HOUR);
    expect(body.alertsRaised.points).toHaveLength(24);
    expect(body.alertsRaised.total).toBe(3);
    expect(valueAt(body.alertsRaised, now - 5 * HOUR)).toBeGreaterThanOrEqual(1);
    expect(valueAt(body.alertsRaised, now - 5 * HOUR) + valueAt(body.alertsRaised, now - 5 * HOUR - MIN)).toBeGreaterThanOrEqual(2);
    expect(valueAt(body.alertsRaised, now - 10 * HOUR)).toBe(1);
    // Active only, newest first.
    expect(body.activeAlerts.map((a) => [a.deviceId, a.message])).toEqual([
      ["pulse-c", "alert rule:4"],
      ["pulse-a", "alert rule:2"],
    ]);
  });

  it("counts a real device's messages and its connection as they happen", async () => {
    await registerDevice(server.database.url, "pulse-live");
    const before = await pulse();
    const device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("pulse-live"));
    try {
      // QoS 1: the PUBACK comes after the message is committed [MQTT-4.3.2-2], so it is counted by then.
      for (let i = 0; i < 12; i++) await device.publishAsync("devices/pulse-live/telemetry", JSON.stringify({ n: i }), { qos: 1 });
      const after = await waitFor(async () => {
        const body = await pulse();
        return body.online.now === before.online.now + 1 && body;
      }, "the device counted online");
      expect(after.messageRate.total).toBe(before.messageRate.total + 12);
      expect(after.topTalkers[0]).toMatchObject({ deviceId: "pulse-live", messages: 12, online: true });
    } finally {
      await device.endAsync();
    }
  });

  it("is for signed-in users only", async () => {
    expect((await call(server.httpUrl, "GET", "/api/fleet/pulse")).status).toBe(401);
  });
});
