// Retained publishes must reach live subscribers even when storing them takes a database
// round trip: aedes numbers each packet before storing it, and every subscriber drops a packet
// numbered lower than one it already received, so a slow store would silently lose messages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { adminQuery } from "../../../test/support/postgres.ts";

let server: TestServer;
const clients: MqttClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server.close();
});

describe("retained messages and live subscribers", () => {
  it("delivers every retained publish made alongside other traffic, and stores the latest per topic", async () => {
    const observer = await mqtt.connectAsync(server.mqttUrl, {
      reconnectPeriod: 0,
      clientId: "operator:observer",
      username: "token",
      password: await apiToken(server.httpUrl),
    });
    clients.push(observer);
    const received: string[] = [];
    observer.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await observer.subscribeAsync("devices/#", { qos: 1 });

    const ids = Array.from({ length: 8 }, (_, i) => `ret-${i}`);
    await Promise.all(ids.map((id) => registerDevice(server.database.url, id)));
    const devices = await Promise.all(ids.map((id) => mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id))));
    clients.push(...devices);
    // Each device: a retained status and, at once, a non-retained reading that would overtake it.
    await Promise.all(
      devices.map((device, i) =>
        Promise.all([
          device.publishAsync(`devices/${ids[i]}/status`, "online", { qos: 1, retain: true }),
          device.publishAsync(`devices/${ids[i]}/telemetry`, '{"v":1}', { qos: 1 }),
        ]),
      ),
    );

    const expected = ids.flatMap((id) => [`devices/${id}/status online`, `devices/${id}/telemetry {"v":1}`]);
    const deadline = Date.now() + 10_000;
    while (received.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(received.sort()).toEqual(expected.sort());

    const stored = await adminQuery(server.database.url, "SELECT topic FROM mqtt_retained WHERE topic LIKE 'devices/ret-%' ORDER BY topic");
    expect(stored.rows.map((r: { topic: string }) => r.topic)).toEqual(ids.map((id) => `devices/${id}/status`).sort());
  });
});
