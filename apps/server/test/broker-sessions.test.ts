// Sessions under the gate, with real MQTT clients: no device can take over another's
// session, a device's own reconnect replaces its old connection, and rotating credentials,
// disabling or deleting a device act on its live connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { closed, connackCode, connectClient } from "../../../test/support/mqtt.ts";
import { disconnectDevice } from "../src/broker/control.ts";

let server: TestServer;
let token: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ MQTT_AUTH_FAILURES_PER_MINUTE: "100000" });
  token = await apiToken(server.httpUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server?.close();
});

async function newDevice(id: string): Promise<IClientOptions> {
  const { credentials } = await registerDevice(server.httpUrl, token, { name: id, id });
  return { ...credentials };
}

/** A bounded wait for the connection to close (the test fails on its own timeout otherwise). */
const closes = (client: MqttClient) => closed(client);

describe("session takeover", () => {
  it("refuses a device that presents another device's clientId, and the connected one stays [MQTT-3.1.4-2]", async () => {
    const victim = await newDevice("victim");
    const intruder = await newDevice("intruder");
    const connected = await connectClient(server.mqttUrl, victim, clients);
    let dropped = false;
    connected.once("close", () => (dropped = true));

    expect(await connackCode(server.mqttUrl, { ...intruder, clientId: "victim" })).toBe(2);
    expect(await connackCode(server.mqttUrl, { ...victim, password: "guessed" })).toBe(4);
    // The victim's connection still works: a QoS 1 round trip completes.
    await connected.publishAsync("devices/victim/telemetry", '{"v":1}', { qos: 1 });
    expect(dropped).toBe(false);
    expect(connected.connected).toBe(true);
  });

  it("lets the same device reconnect: the new connection replaces the old one [MQTT-3.1.4-2]", async () => {
    const options = await newDevice("rejoin");
    const first = await connectClient(server.mqttUrl, options, clients);
    const firstClosed = closes(first);
    const second = await connectClient(server.mqttUrl, options, clients);
    await firstClosed;
    await second.publishAsync("devices/rejoin/telemetry", '{"v":1}', { qos: 1 });
    expect(second.connected).toBe(true);
  });
});

describe("credential rotation", () => {
  it("closes the live connection, refuses the old password at once and accepts the new one", async () => {
    const options = await newDevice("rotor");
    const live = await connectClient(server.mqttUrl, options, clients);
    const liveClosed = closes(live);
    const rotated = await call(server.httpUrl, "POST", "/api/devices/rotor/credentials", { token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.credentials.password).not.toBe(options.password);
    await liveClosed;
    expect(await connackCode(server.mqttUrl, options)).toBe(4);
    expect(await connackCode(server.mqttUrl, { ...options, password: rotated.body.credentials.password })).toBe(0);
  });
});

describe("disabling", () => {
  it("closes the live connection, refuses reconnection, and enabling lets it back in", async () => {
    const options = await newDevice("sleeper");
    const live = await connectClient(server.mqttUrl, options, clients);
    const liveClosed = closes(live);
    expect((await call(server.httpUrl, "POST", "/api/devices/sleeper/disable", { token })).body).toMatchObject({
      id: "sleeper",
      disabled: true,
    });
    await liveClosed;
    expect(await connackCode(server.mqttUrl, options)).toBe(5);
    expect((await call(server.httpUrl, "POST", "/api/devices/sleeper/enable", { token })).body).toMatchObject({ disabled: false });
    expect(await connackCode(server.mqttUrl, options)).toBe(0);
  });

  it("acts on the control message itself, as another node's API would send it through the shared mqemitter", async () => {
    const options = await newDevice("remote");
    const live = await connectClient(server.mqttUrl, options, clients);
    const liveClosed = closes(live);
    await disconnectDevice(server.fleetwatch.broker, "remote");
    await liveClosed;
  });
});

describe("deletion", () => {
  it("closes the connection, clears the retained messages and the stored session, without a late will", async () => {
    const options = await newDevice("doomed");
    const persistent = await connectClient(
      server.mqttUrl,
      { ...options, clean: false, will: { topic: "devices/doomed/status", payload: Buffer.from("offline"), qos: 1, retain: true } },
      clients,
    );
    await persistent.subscribeAsync("devices/doomed/commands/#", { qos: 1 });
    await persistent.publishAsync("devices/doomed/state", '{"on":true}', { qos: 1, retain: true });
    await persistent.publishAsync("devices/doomed/extra/config", "x", { qos: 1, retain: true });
    const persistentClosed = closes(persistent);

    expect((await call(server.httpUrl, "DELETE", "/api/devices/doomed", { token })).status).toBe(204);
    await persistentClosed;
    expect(await connackCode(server.mqttUrl, options)).toBe(5);
    expect((await call(server.httpUrl, "GET", "/api/devices/doomed", { token })).status).toBe(404);

    // A new subscriber sees no retained message under the namespace (nor the will): only the marker.
    const admin = await connectClient(server.mqttUrl, { clientId: "ops_after_delete", username: "token", password: token }, clients);
    const seen: string[] = [];
    const markerSeen = new Promise<void>((resolve) =>
      admin.on("message", (topic) => {
        seen.push(topic);
        if (topic === "devices/doomed/commands/marker") resolve();
      }),
    );
    await admin.subscribeAsync("devices/doomed/#", { qos: 1 });
    await admin.publishAsync("devices/doomed/commands/marker", "m", { qos: 1 });
    await markerSeen;
    expect(seen).toEqual(["devices/doomed/commands/marker"]);

    // Re-created with the same id, the device starts without the old stored session [MQTT-3.2.2-3].
    const again = await newDevice("doomed");
    const fresh = mqtt.connect(server.mqttUrl, { ...again, clean: false, reconnectPeriod: 0 });
    clients.push(fresh);
    const connack = await new Promise<IConnackPacket>((resolve) => fresh.once("connect", resolve));
    expect(connack.sessionPresent).toBe(false);
  });
});
