// The broker's access matrix with real MQTT clients: for a set of devices and operators,
// every allowed and denied CONNECT, PUBLISH, SUBSCRIBE and Last Will, table-driven.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IClientOptions, MqttClient } from "mqtt";
import { startTestServer, testAdmin, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { closed, connackCode, connectClient, connectPacket, rawConnack, subackCodes } from "../../../test/support/mqtt.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import mqtt from "mqtt";

let server: TestServer;
const clients: MqttClient[] = [];
const secrets: Record<string, string> = {};
let adminToken: string;
let viewerToken: string;
let operatorToken: string;

beforeAll(async () => {
  // Many deliberate failures from one address: the per-node CONNECT throttle is tested on its own.
  server = await startTestServer({ MQTT_AUTH_FAILURES_PER_MINUTE: "100000", MQTT_MAX_KEEPALIVE_S: "600" });
  adminToken = await apiToken(server.httpUrl);
  for (const id of ["alpha", "beta", "gamma"])
    secrets[id] = (await registerDevice(server.httpUrl, adminToken, { name: id, id })).credentials.password;
  expect((await call(server.httpUrl, "POST", "/api/devices/gamma/disable", { token: adminToken })).status).toBe(200);
  expect(
    (
      await call(server.httpUrl, "POST", "/api/users", {
        token: adminToken,
        body: { email: "viewer@test.local", password: "viewer-password", role: "viewer" },
      })
    ).status,
  ).toBe(201);
  viewerToken = await apiToken(server.httpUrl, "viewer@test.local", "viewer-password");
  expect(
    (
      await call(server.httpUrl, "POST", "/api/users", {
        token: adminToken,
        body: { email: "operator@test.local", password: "operator-password", role: "operator" },
      })
    ).status,
  ).toBe(201);
  operatorToken = await apiToken(server.httpUrl, "operator@test.local", "operator-password");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server?.close();
});

const device = (id: string, extra: IClientOptions = {}): IClientOptions => ({
  clientId: id,
  username: id,
  password: secrets[id],
  ...extra,
});
const admin = (extra: IClientOptions = {}): IClientOptions => ({
  clientId: `ops_${Math.random().toString(36).slice(2)}`,
  username: "token",
  password: adminToken,
  ...extra,
});
const viewer = (extra: IClientOptions = {}): IClientOptions => ({
  clientId: `view_${Math.random().toString(36).slice(2)}`,
  username: "viewer@test.local",
  password: viewerToken,
  ...extra,
});
const operator = (extra: IClientOptions = {}): IClientOptions => ({
  clientId: `oper_${Math.random().toString(36).slice(2)}`,
  username: "operator@test.local",
  password: operatorToken,
  ...extra,
});
const will = (topic: string) => ({ will: { topic, payload: Buffer.from("offline"), qos: 1 as const, retain: false } });

describe("CONNECT", () => {
  const cases: [string, () => IClientOptions, number][] = [
    ["a device with its own id, username and password", () => device("alpha"), 0],
    ["a device with a wrong password → bad username or password", () => device("alpha", { password: "wrong" }), 4],
    ["a device without a password → bad username or password", () => ({ clientId: "alpha", username: "alpha" }), 4],
    ["a device presenting another device's clientId → identifier rejected", () => device("alpha", { clientId: "beta" }), 2],
    ["an unknown device → not authorized", () => ({ clientId: "nobody", username: "nobody", password: "x" }), 5],
    ["a disabled device with its correct password → not authorized", () => device("gamma"), 5],
    ["no credentials at all (anonymous access is off) → bad username or password", () => ({ clientId: "mqttjs_anon" }), 4],
    ["a device whose will stays in its namespace", () => device("alpha", will("devices/alpha/status")), 0],
    ["a device whose will targets another device → not authorized", () => device("alpha", will("devices/beta/status")), 5],
    ["a device whose will targets $SYS → not authorized", () => device("alpha", will("$SYS/fake")), 5],
    ["a device whose will targets a foreign topic → not authorized", () => device("alpha", will("alarms/all")), 5],
    ["an admin with username 'token' and an API token", () => admin(), 0],
    ["an admin with its email and an API token", () => admin({ username: testAdmin.email }), 0],
    ["an operator token under another operator's email → bad username or password", () => admin({ username: "viewer@test.local" }), 4],
    ["an operator with an unknown token → bad username or password", () => admin({ password: "fwt_not-a-real-token" }), 4],
    ["an operator with a registered device's id as clientId → identifier rejected", () => admin({ clientId: "alpha" }), 2],
    ["an operator with a device-shaped clientId that no device has → accepted", () => admin({ clientId: "ops-script" }), 0],
    ["a viewer with a device-shaped clientId that no device has → accepted", () => viewer({ clientId: "dash-1" }), 0],
    ["a viewer", () => viewer(), 0],
    ["a viewer with a will (viewers cannot publish) → not authorized", () => viewer(will("devices/alpha/commands/x")), 5],
    ["an admin with a will on a command topic", () => admin(will("devices/alpha/commands/x")), 0],
    ["an admin with a will on telemetry → not authorized", () => admin(will("devices/alpha/telemetry")), 5],
    ["a device asking for a keepalive above MQTT_MAX_KEEPALIVE_S → identifier rejected", () => device("alpha", { keepalive: 601 }), 2],
    ["a device with keepalive 0 (no keepalive) is allowed", () => device("alpha", { keepalive: 0 }), 0],
  ];
  for (const [name, options, expected] of cases) {
    it(`${name} [CONNACK ${expected}]`, async () => {
      expect(await connackCode(server.mqttUrl, options())).toBe(expected);
    });
  }

  it("refuses a zero-length clientId without a clean session with 0x02 and closes [MQTT-3.1.3-8]", async () => {
    const packet = connectPacket({ clientId: "", clean: false, username: "alpha", password: secrets.alpha });
    expect(await rawConnack(server.mqttUrl, packet)).toEqual({ returnCode: 2, closedByServer: true });
  });

  it("refuses over MQTT over WebSocket alike", async () => {
    expect(await connackCode(server.wsUrl, device("alpha", { password: "wrong" }))).toBe(4);
    expect(await connackCode(server.wsUrl, device("alpha"))).toBe(0);
  });
});

describe("PUBLISH", () => {
  let observer: MqttClient;
  beforeAll(async () => {
    // An admin sees everything published under devices/ (and is told nothing of $-topics by #).
    observer = await connectClient(server.mqttUrl, admin(), clients);
    await observer.subscribeAsync(["devices/#", "other/#", "$SYS/fake/#"], { qos: 1 });
  });

  /** Publishes, then a marker from an allowed client: reports whether the first arrived before the marker. */
  async function delivered(publisher: MqttClient, topic: string): Promise<boolean> {
    const seen: string[] = [];
    const marker = `devices/beta/marker-${Math.random().toString(36).slice(2)}`;
    const markerSeen = new Promise<void>((resolve) =>
      observer.on("message", function onMessage(t) {
        seen.push(t);
        if (t === marker) {
          observer.off("message", onMessage);
          resolve();
        }
      }),
    );
    // QoS 1: either the PUBACK arrives (allowed) or the broker closes the connection (denied).
    await Promise.race([publisher.publishAsync(topic, "payload", { qos: 1, retain: true }).catch(() => undefined), closed(publisher)]);
    const beta = await connectClient(server.mqttUrl, device("beta"), clients);
    await beta.publishAsync(marker, "m", { qos: 1 });
    await markerSeen;
    await beta.endAsync();
    return seen.includes(topic);
  }

  const cases: [string, () => IClientOptions, string, boolean][] = [
    ["a device to its telemetry", () => device("alpha"), "devices/alpha/telemetry", true],
    ["a device to its state", () => device("alpha"), "devices/alpha/state", true],
    ["a device to any subtopic of its own", () => device("alpha"), "devices/alpha/custom/deep/topic", true],
    ["a device to another device's telemetry", () => device("alpha"), "devices/beta/telemetry", false],
    ["a device to the bare devices/{id} level", () => device("alpha"), "devices/alpha", false],
    ["a device to a topic outside devices/", () => device("alpha"), "other/topic", false],
    ["a device to $SYS", () => device("alpha"), "$SYS/fake/topic", false],
    ["a device to the inter-node control channel", () => device("alpha"), "$fleetwatch/control/disconnect", false],
    ["a device to its answer to a command", () => device("alpha"), "devices/alpha/commands/c-1/response", true],
    ["a device to its own commands/{commandId}", () => device("alpha"), "devices/alpha/commands/c-1", false],
    ["a device to anything else under its commands", () => device("alpha"), "devices/alpha/commands/c-1/status", false],
    ["a device to another device's commands", () => device("alpha"), "devices/beta/commands/c-1", false],
    ["a device to another device's command answer", () => device("alpha"), "devices/beta/commands/c-1/response", false],
    ["an admin to a device's commands", () => admin(), "devices/alpha/commands/reboot", true],
    ["an admin to a device's telemetry", () => admin(), "devices/alpha/telemetry", false],
    ["an operator to a device's commands", () => operator(), "devices/alpha/commands/reboot", true],
    ["an operator to a device's telemetry", () => operator(), "devices/alpha/telemetry", false],
    ["a viewer to a device's commands", () => viewer(), "devices/alpha/commands/reboot", false],
  ];
  for (const [name, options, topic, allowed] of cases) {
    it(`${allowed ? "delivers" : "refuses, closing the connection:"} ${name} (${topic})`, async () => {
      const publisher = await connectClient(server.mqttUrl, options(), clients);
      const wasDelivered = await delivered(publisher, topic);
      expect(wasDelivered).toBe(allowed);
      // MQTT 3.1.1 has no negative PUBACK: a refused publish ends the connection.
      expect(publisher.connected).toBe(allowed);
      await publisher.endAsync(true);
    });
  }

  it("stores no retained message for a refused publish", async () => {
    const late = await connectClient(server.mqttUrl, admin(), clients);
    const retained: string[] = [];
    late.on("message", (topic, _payload, packet) => packet.retain && retained.push(topic));
    await late.subscribeAsync(["devices/beta/telemetry", "other/topic", "devices/alpha/telemetry"], { qos: 1 });
    const beta = await connectClient(server.mqttUrl, device("beta"), clients);
    const markerSeen = new Promise<void>((resolve) => late.on("message", (t) => t === "devices/beta/telemetry" && resolve()));
    await beta.publishAsync("devices/beta/telemetry", "fresh", { qos: 1 });
    await markerSeen;
    // The allowed retained publish from the table above is there; the refused ones are not.
    expect(retained).toEqual(["devices/alpha/telemetry"]);
  });
});

describe("SUBSCRIBE", () => {
  const cases: [string, () => IClientOptions, string, boolean][] = [
    ["a device, its whole namespace", () => device("alpha"), "devices/alpha/#", true],
    ["a device, its commands", () => device("alpha"), "devices/alpha/commands/+", true],
    ["a device, one of its topics", () => device("alpha"), "devices/alpha/state", true],
    ["a device, another device's namespace", () => device("alpha"), "devices/beta/#", false],
    ["a device, every device's telemetry", () => device("alpha"), "devices/+/telemetry", false],
    ["a device, all devices", () => device("alpha"), "devices/#", false],
    ["a device, everything", () => device("alpha"), "#", false],
    ["a device, a wildcard first level", () => device("alpha"), "+/alpha/#", false],
    ["a device, $SYS", () => device("alpha"), "$SYS/#", false],
    ["a viewer, everything", () => viewer(), "#", true],
    ["a viewer, every device's telemetry", () => viewer(), "devices/+/telemetry", true],
    ["a viewer, the inter-node control channel", () => viewer(), "$fleetwatch/#", false],
    ["an admin, all devices", () => admin(), "devices/#", true],
    ["an admin, the inter-node control channel", () => admin(), "$fleetwatch/control/disconnect", false],
  ];
  for (const [name, options, filter, allowed] of cases) {
    it(`${allowed ? "grants" : "answers 0x80 and keeps the connection for"} ${name} (${filter}) [MQTT-3.9.3-2]`, async () => {
      const client = await connectClient(server.mqttUrl, options(), clients);
      expect(await subackCodes(client, filter)).toEqual([allowed ? 1 : 128]);
      expect(client.connected).toBe(true);
      await client.endAsync();
    });
  }

  it("delivers an admin's command to the device subscribed to its own commands", async () => {
    const alpha = await connectClient(server.mqttUrl, device("alpha"), clients);
    await alpha.subscribeAsync("devices/alpha/commands/blink", { qos: 1 });
    const received = new Promise<string>((resolve) => alpha.once("message", (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
    const ops = await connectClient(server.mqttUrl, admin(), clients);
    await ops.publishAsync("devices/alpha/commands/blink", "now", { qos: 1 });
    expect(await received).toBe("devices/alpha/commands/blink now");
    await Promise.all([alpha.endAsync(), ops.endAsync()]);
  });

  it("never stores, queues or delivers a refused filter of a persistent session's SUBSCRIBE, even alongside a granted one", async () => {
    // One SUBSCRIBE, one filter granted and one refused: aedes used to store both.
    const spy = await connectClient(server.mqttUrl, device("alpha", { clean: false }), clients);
    expect(await subackCodes(spy, ["devices/alpha/commands/#", "devices/beta/#"])).toEqual([1, 128]);
    expect(
      (await adminQuery(server.database.url, "SELECT topic FROM mqtt_subscriptions WHERE client_id = 'alpha' ORDER BY topic")).rows,
    ).toEqual([{ topic: "devices/alpha/commands/#" }]);
    await spy.endAsync();

    // While the spy is away: beta's message, then a command for the spy, both at QoS 1.
    const beta = await connectClient(server.mqttUrl, device("beta"), clients);
    await beta.publishAsync("devices/beta/telemetry", '{"secret":42}', { qos: 1 });
    const ops = await connectClient(server.mqttUrl, admin(), clients);
    await ops.publishAsync("devices/alpha/commands/ping", "last", { qos: 1 });
    await Promise.all([beta.endAsync(), ops.endAsync()]);

    // Its session resumes with what was queued for it, in order: the command comes, beta's message never does.
    // (Listening before the CONNACK: queued messages follow it at once.)
    const received: string[] = [];
    const resumed = mqtt.connect(server.mqttUrl, { ...device("alpha"), clean: false, reconnectPeriod: 0 });
    clients.push(resumed);
    const ping = new Promise<void>((resolve) =>
      resumed.on("message", (topic) => {
        received.push(topic);
        if (topic === "devices/alpha/commands/ping") resolve();
      }),
    );
    await ping;
    expect(received).toEqual(["devices/alpha/commands/ping"]);
    await resumed.endAsync();
  });
});

describe("Last Will", () => {
  it("publishes a device's will in its own namespace when its connection drops [MQTT-3.1.2-8]", async () => {
    const watcher = await connectClient(server.mqttUrl, viewer(), clients);
    await watcher.subscribeAsync("devices/beta/status", { qos: 1 });
    const beta = await connectClient(server.mqttUrl, device("beta", will("devices/beta/status")), clients);
    const received = new Promise<string>((resolve) => watcher.once("message", (_t, payload) => resolve(payload.toString())));
    beta.stream.destroy();
    expect(await received).toBe("offline");
    await closed(beta);
  });
});
