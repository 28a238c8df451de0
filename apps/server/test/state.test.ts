// GET /api/devices/:id/state: the retained messages under a device's topics.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";

let server: TestServer;
let client: MqttClient;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  await registerDevice(server.database.url, "lamp-1", "Lamp");
  await registerDevice(server.database.url, "lamp-10", "Lamp 10");
  client = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("lamp-1"));
  token = await apiToken(server.httpUrl);
});
afterAll(async () => {
  await client.endAsync(true);
  await server.close();
});

const stateOf = async (id: string) => {
  const response = await server.fleetwatch.app.inject({
    method: "GET",
    url: `/api/devices/${id}/state`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json() };
};

describe("device state", () => {
  it("returns the device's retained messages by topic: JSON parsed, text as text, other bytes as base64", async () => {
    await client.publishAsync("devices/lamp-1/state", JSON.stringify({ on: true, level: 80 }), { qos: 1, retain: true });
    await client.publishAsync("devices/lamp-1/firmware", "v1.2.3", { qos: 1, retain: true });
    await client.publishAsync("devices/lamp-1/blob", Buffer.from([0xff, 0x00, 0xfe]), { qos: 1, retain: true });
    await client.publishAsync("devices/lamp-1/telemetry", JSON.stringify({ level: 80 }), { qos: 1 }); // not retained
    // A device may publish only under its own id, so lamp-10's state comes from lamp-10 itself.
    const other = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("lamp-10"));
    await other.publishAsync("devices/lamp-10/state", "other device", { qos: 1, retain: true });
    await other.endAsync();

    const { status, body } = await stateOf("lamp-1");
    expect(status).toBe(200);
    expect(body.deviceId).toBe("lamp-1");
    expect(
      body.retained.map((e: { topic: string; subtopic: string; format: string; payload: unknown }) => [e.subtopic, e.format, e.payload]),
    ).toEqual([
      ["blob", "base64", Buffer.from([0xff, 0x00, 0xfe]).toString("base64")],
      ["firmware", "text", "v1.2.3"],
      ["state", "json", { on: true, level: 80 }],
    ]);
    expect(Number.isNaN(Date.parse(body.retained[0].updatedAt))).toBe(false);
  });

  it("keeps only the latest retained message per topic, and an empty retained payload clears it [MQTT-3.3.1-10, MQTT-3.3.1-11]", async () => {
    await client.publishAsync("devices/lamp-1/state", JSON.stringify({ on: false }), { qos: 1, retain: true });
    expect((await stateOf("lamp-1")).body.retained.find((e: { subtopic: string }) => e.subtopic === "state").payload).toEqual({
      on: false,
    });

    await client.publishAsync("devices/lamp-1/state", "", { qos: 1, retain: true });
    await expect
      .poll(async () => (await stateOf("lamp-1")).body.retained.map((e: { subtopic: string }) => e.subtopic))
      .toEqual(["blob", "firmware"]);
    // The late subscriber is an operator (API token): operators may subscribe to any device's topics.
    const late = await mqtt.connectAsync(server.mqttUrl, {
      clientId: "operator:late",
      username: "token",
      password: token,
      reconnectPeriod: 0,
    });
    const got: string[] = [];
    late.on("message", (topic) => got.push(topic));
    await late.subscribeAsync("devices/lamp-1/#", { qos: 1 });
    await expect.poll(() => got.length).toBe(2);
    expect(got.sort()).toEqual(["devices/lamp-1/blob", "devices/lamp-1/firmware"]);
    await late.endAsync();
  });

  it("answers 404 for an unknown device and 400 for an invalid id", async () => {
    expect((await stateOf("no-such-lamp")).status).toBe(404);
    expect((await stateOf("Bad_Id")).status).toBe(400);
  });
});
