// GET /api/retained: the retained messages matching a topic filter (the topic explorer's tree).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, login } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";

let server: TestServer;
let token: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  for (const id of ["vent-1", "vent-2"]) {
    await registerDevice(server.database.url, id);
    clients.push(await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id)));
  }
  token = await apiToken(server.httpUrl);
  const [vent1, vent2] = clients as [MqttClient, MqttClient];
  await vent1.publishAsync("devices/vent-1/state", JSON.stringify({ speed: 2 }), { qos: 1, retain: true });
  await vent1.publishAsync("devices/vent-1/firmware", "v1.0", { qos: 1, retain: true });
  await vent1.publishAsync("devices/vent-1/telemetry", JSON.stringify({ rpm: 900 }), { qos: 1 }); // not retained
  await vent2.publishAsync("devices/vent-2/state", JSON.stringify({ speed: 0 }), { qos: 1, retain: true });
});
afterAll(async () => {
  for (const client of clients) await client.endAsync(true);
  await server.close();
});

const retained = async (query: string, headers: Record<string, string> = { authorization: `Bearer ${token}` }) => {
  const response = await server.fleetwatch.app.inject({ method: "GET", url: `/api/retained?${query}`, headers });
  return { status: response.statusCode, body: response.json() };
};
const topicsOf = (body: { retained: { topic: string }[] }) => body.retained.map((entry) => entry.topic);

describe("GET /api/retained", () => {
  it("lists the retained messages matching a filter with + and #, sorted by topic, payloads decoded", async () => {
    await expect
      .poll(async () => topicsOf((await retained("topic=devices/%2B/state")).body))
      .toEqual(["devices/vent-1/state", "devices/vent-2/state"]);

    const all = await retained("topic=devices/vent-1/%23");
    expect(all.status).toBe(200);
    expect(all.body.truncated).toBe(false);
    expect(all.body.retained.map((e: { subtopic: string; format: string; payload: unknown }) => [e.subtopic, e.format, e.payload])).toEqual(
      [
        ["firmware", "text", "v1.0"],
        ["state", "json", { speed: 2 }],
      ],
    );

    expect(topicsOf((await retained("topic=%23")).body)).toEqual([
      "devices/vent-1/firmware",
      "devices/vent-1/state",
      "devices/vent-2/state",
    ]);
    expect(topicsOf((await retained("topic=devices/vent-2/state")).body)).toEqual(["devices/vent-2/state"]);
    expect(topicsOf((await retained("topic=devices/vent-1/telemetry")).body)).toEqual([]);
  });

  it("says when the limit cut the list short", async () => {
    const { status, body } = await retained("topic=%23&limit=2");
    expect(status).toBe(200);
    expect(topicsOf(body)).toEqual(["devices/vent-1/firmware", "devices/vent-1/state"]);
    expect(body.truncated).toBe(true);
  });

  it("refuses invalid filters (400) and the platform's internal channels (403)", async () => {
    const bad = await retained("topic=devices/vent%2B/state");
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("not a valid MQTT topic filter");
    expect((await retained("topic=%23/state")).status).toBe(400);
    expect((await retained("topic=%24fleetwatch/%23")).status).toBe(403);
    expect((await retained("")).status).toBe(400);
  });

  it("is open to signed-in viewers as well as admins, and closed to anonymous callers", async () => {
    expect((await retained("topic=%23", {})).status).toBe(401);
    const viewer = { email: "viewer@test.local", password: "viewer-password" };
    expect((await call(server.httpUrl, "POST", "/api/users", { token, body: { ...viewer, role: "viewer" } })).status).toBe(201);
    const { cookie } = await login(server.httpUrl, viewer.email, viewer.password);
    const answer = await retained("topic=%23", { cookie });
    expect(answer.status).toBe(200);
    expect(topicsOf(answer.body)).toHaveLength(3);
  });
});
