// The database becomes unreachable during ingest (a real TCP proxy in front of the real
// PostgreSQL is cut): QoS 1 messages are not acknowledged, QoS 0 ones are buffered up to the
// bound, the broker keeps serving, /readyz says so, and ingest resumes on its own. Devices
// this node verified recently get back in during the outage (MQTT.js gives up for good after
// a refused CONNACK); rotating or disabling a device first takes that away.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import { loadConfig } from "../src/config.ts";
import { startFleetwatch, type Fleetwatch } from "../src/server.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { startTcpProxy, type TcpProxy } from "../../../test/support/tcp-proxy.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { deviceConnectOptions, deviceCredentials, registerDevice } from "../../../test/support/devices.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import { testAdmin } from "../../../test/support/fleetwatch.ts";
import { connackCode } from "../../../test/support/mqtt.ts";

const QOS0_BUFFER = 5;
let database: TestDatabase;
let proxy: TcpProxy;
let fleetwatch: Fleetwatch;
let mqttUrl: string;
let httpUrl: string;
let token: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const target = new URL(inject("adminDatabaseUrl"));
  proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    MQTT_PORT: "0",
    DATABASE_URL: proxy.urlFor(database.url),
    INGEST_QOS0_BUFFER: String(QOS0_BUFFER),
    INGEST_COMMIT_TIMEOUT_MS: "1000",
    // For the unrelated conversation on a non-device topic below; devices still sign in.
    MQTT_ALLOW_ANONYMOUS: "true",
    ADMIN_EMAIL: testAdmin.email,
    ADMIN_PASSWORD: testAdmin.password,
    // Presence changes the outage kept from being written are written at the next flush.
    PRESENCE_FLUSH_MS: "200",
  });
  fleetwatch = await startFleetwatch(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }));
  mqttUrl = `mqtt://127.0.0.1:${fleetwatch.ports.mqtt}`;
  httpUrl = `http://127.0.0.1:${fleetwatch.ports.http}`;
  token = await apiToken(httpUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  proxy.restore();
  await fleetwatch?.close();
  await proxy?.close();
  await database.drop();
});

async function connect(options: mqtt.IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  clients.push(client);
  return client;
}

const stored = async (deviceId: string) =>
  (
    await adminQuery(database.url, "SELECT convert_from(payload, 'UTF8')::json->>'seq' AS seq FROM messages WHERE device_id = $1", [
      deviceId,
    ])
  ).rows.map((r: { seq: string }) => Number(r.seq));

describe("when PostgreSQL is unreachable", () => {
  it(
    "acknowledges nothing it cannot store, keeps the broker serving, and stores everything acknowledged once it returns",
    { timeout: 60_000 },
    async () => {
      await registerDevice(database.url, "outage-q1");
      await registerDevice(database.url, "outage-q0");
      await registerDevice(database.url, "outage-new");
      // Reconnects on its own and resends unacknowledged messages, as a device does. It was
      // verified before the outage, so its reconnects during the outage are let in.
      const device = await connect(deviceConnectOptions("outage-q1", { clean: false, reconnectPeriod: 200 }));
      const acked = new Set<number>();
      const publish = (seq: number) =>
        new Promise<void>((resolve) =>
          device.publish("devices/outage-q1/telemetry", JSON.stringify({ seq }), { qos: 1 }, (error) => {
            if (!error) acked.add(seq);
            resolve();
          }),
        );
      await Promise.all([0, 1, 2, 3, 4].map(publish));
      expect(acked.size).toBe(5);
      // Connected before the outage: a CONNECT needs the registry, so new sign-ins wait for the
      // database; what "keeps serving" means is that connected clients are not disturbed.
      const sensor = await connect(deviceConnectOptions("outage-q0"));
      const listener = await connect({});
      const talker = await connect({});
      await listener.subscribeAsync("chat/room", { qos: 0 });

      proxy.cut();
      const readyz = await fetch(`${httpUrl}/readyz`);
      expect(readyz.status).toBe(503);
      expect(((await readyz.json()) as { checks: { database: { ok: boolean } } }).checks.database.ok).toBe(false);

      // QoS 1 during the outage: the server drops the connection instead of acknowledging.
      const dropped = new Promise<void>((resolve) => device.once("close", () => resolve()));
      const pending = [5, 6, 7, 8, 9].map(publish);
      await dropped;
      expect([...acked].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);

      // QoS 0 from a device: buffered up to INGEST_QOS0_BUFFER, the rest dropped and counted.
      for (let seq = 0; seq < 12; seq++) await sensor.publishAsync("devices/outage-q0/telemetry", JSON.stringify({ seq }), { qos: 0 });
      await waitFor(() => fleetwatch.ingest.stats().qos0Dropped >= 12 - QOS0_BUFFER, "QoS 0 drops to be counted", 20_000);

      // The broker never stopped: an unrelated QoS 0 conversation works during the outage.
      const heard = new Promise<string>((resolve) => listener.once("message", (_topic, payload) => resolve(payload.toString())));
      await talker.publishAsync("chat/room", "still here", { qos: 0 });
      expect(await heard).toBe("still here");
      expect([...acked].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);

      // A device this node never verified cannot be checked: CONNACK 3 (server unavailable), not a bad password.
      expect(await connackCode(mqttUrl, deviceConnectOptions("outage-new"))).toBe(3);
      proxy.restore();
      // The device reconnects, resends, and this time gets its acknowledgements.
      await Promise.all(pending);
      expect([...acked].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(new Set(await stored("outage-q1"))).toEqual(acked);
      // Exactly the buffered QoS 0 messages, the first ones, made it once the database was back.
      await waitFor(async () => (await stored("outage-q0")).length === QOS0_BUFFER, "buffered QoS 0 messages to be written", 20_000);
      expect((await stored("outage-q0")).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
      expect(fleetwatch.ingest.stats().qos0Dropped).toBe(12 - QOS0_BUFFER);
      expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
    },
  );

  it(
    "lets a device verified before the outage back in during it, with MQTT.js's default options, and acknowledges its messages once the database returns",
    { timeout: 60_000 },
    async () => {
      await registerDevice(database.url, "outage-default");
      // MQTT.js's defaults: reconnect every second, but never again after a refused CONNACK.
      const device = await mqtt.connectAsync(mqttUrl, { clientId: "outage-default", ...deviceCredentials("outage-default") });
      clients.push(device);
      await device.publishAsync("devices/outage-default/telemetry", JSON.stringify({ seq: 0 }), { qos: 1 });
      // MQTT.js emits "connect" only once it has resent its unacknowledged messages and got
      // their acks; a CONNACK accepting the reconnect is what shows the device got back in.
      const accepted = { count: 0 };
      device.on("packetreceive", (packet) => {
        if (packet.cmd === "connack" && packet.returnCode === 0) accepted.count++;
      });
      const refusals: number[] = [];
      device.on("error", (error) => refusals.push((error as { code?: number }).code ?? -1));
      const fromCacheBefore = fleetwatch.counters.get("connect_from_cache");
      const presence = async () =>
        (
          await adminQuery(
            database.url,
            "SELECT d.online, p.connection_id FROM devices d JOIN device_presence p ON p.device_id = d.id WHERE d.id = 'outage-default'",
          )
        ).rows[0] as { online: boolean; connection_id: string };
      const before = await waitFor(async () => (await presence())?.online && presence(), "its presence before the outage");

      proxy.cut();
      let acknowledged = false;
      const duringOutage = device.publishAsync("devices/outage-default/telemetry", JSON.stringify({ seq: 1 }), { qos: 1 }).then(() => {
        acknowledged = true;
      });
      // Not storable, so not acknowledged: the server drops the connection; MQTT.js reconnects and is let in.
      await waitFor(() => accepted.count >= 1, "the device to be let back in during the outage", 20_000);
      expect(acknowledged).toBe(false);
      expect(refusals).toEqual([]);
      expect(fleetwatch.counters.get("connect_from_cache")).toBeGreaterThan(fromCacheBefore);

      proxy.restore();
      await duringOutage;
      expect(await stored("outage-default")).toEqual(expect.arrayContaining([0, 1]));

      // Its presence caught up too: the connection it got during the outage is recorded, so its going away is.
      await waitFor(async () => {
        const now = await presence();
        return now.online && now.connection_id !== before.connection_id;
      }, "the connection it got during the outage to be recorded");
      await device.endAsync();
      await waitFor(async () => !(await presence()).online, "its disconnect to be recorded");
    },
  );

  it("does not let in a device whose credentials were rotated, or that was disabled, before the outage", { timeout: 60_000 }, async () => {
    for (const id of ["outage-rotated", "outage-disabled", "outage-kept"]) {
      await registerDevice(database.url, id);
      expect(await connackCode(mqttUrl, deviceConnectOptions(id))).toBe(0);
    }
    expect((await call(httpUrl, "POST", "/api/devices/outage-rotated/credentials", { token })).status).toBe(200);
    expect((await call(httpUrl, "POST", "/api/devices/outage-disabled/disable", { token })).status).toBe(200);
    proxy.cut();
    try {
      // The old secret is no longer vouched for, and the new one cannot be checked: CONNACK 3 (come back later).
      expect(await connackCode(mqttUrl, deviceConnectOptions("outage-rotated"))).toBe(3);
      expect(await connackCode(mqttUrl, deviceConnectOptions("outage-disabled"))).toBe(3);
      // The control: a device nobody touched gets in.
      expect(await connackCode(mqttUrl, deviceConnectOptions("outage-kept"))).toBe(0);
    } finally {
      proxy.restore();
    }
  });
});
