// MQTT 5 across two server nodes of one deployment (one PostgreSQL, broker traffic bridged by
// Redis), as multi-node.test.ts does for 3.1.1: topic aliases resolved on one node reach
// subscribers on the other, and a server-side DISCONNECT carries its reason whichever node
// acted. Needs a Redis: TEST_REDIS_URL (.ci/run sets it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IDisconnectPacket, type MqttClient } from "mqtt";
import { startTwoNodes, type TestServer, type TwoNodes } from "../../../test/support/fleetwatch.ts";
import { connectClient } from "../../../test/support/mqtt.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";

const redisUrl = process.env.TEST_REDIS_URL;
let nodes: TwoNodes | undefined;
let nodeA: TestServer;
let nodeB: TestServer;
let token: string;
const clients: MqttClient[] = [];

const connect = (node: TestServer, options: IClientOptions) => connectClient(node.mqttUrl, options, clients);
const disconnectPacket = (client: MqttClient) =>
  new Promise<IDisconnectPacket>((resolve) => client.once("disconnect", (packet: IDisconnectPacket) => resolve(packet)));

describe.skipIf(!redisUrl)("MQTT 5 on two nodes sharing PostgreSQL, bridged by Redis", () => {
  beforeAll(async () => {
    nodes = await startTwoNodes(redisUrl as string, { ALERT_OFFLINE_GRACE_MS: "0" });
    ({ nodeA, nodeB } = nodes);
    token = await apiToken(nodeA.httpUrl);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await nodes?.close();
  });

  it("a message a device on node A published through a topic alias reaches 3.1.1 and 5 subscribers on node B with its topic [MQTT-3.3.2-8]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Aliased", id: "mn5-alias" });
    const received: string[] = [];
    for (const protocolVersion of [4, 5] as const) {
      const subscriber = await connect(nodeB, {
        clientId: `operator:mn5-sub-${protocolVersion}`,
        username: "token",
        password: token,
        protocolVersion,
      });
      await subscriber.subscribeAsync("devices/mn5-alias/telemetry", { qos: 1 });
      subscriber.on("message", (topic, payload, packet) =>
        received.push(`v${protocolVersion} ${topic} ${payload.toString()} alias=${String(packet.properties?.topicAlias)}`),
      );
    }
    const device = await connect(nodeA, {
      clientId: "mn5-alias",
      username: "mn5-alias",
      password: credentials.password,
      protocolVersion: 5,
    });
    await device.publishAsync("devices/mn5-alias/telemetry", '{"t":1}', { qos: 1, properties: { topicAlias: 1 } });
    // Unpatched aedes set the resolved alias to undefined; msgpack carried it to node B as null,
    // where writing the PUBLISH to its subscribers failed.
    await device.publishAsync("", '{"t":2}', { qos: 1, properties: { topicAlias: 1 } });
    await expect.poll(() => received.length).toBe(4);
    expect(received.sort()).toEqual([
      'v4 devices/mn5-alias/telemetry {"t":1} alias=undefined',
      'v4 devices/mn5-alias/telemetry {"t":2} alias=undefined',
      'v5 devices/mn5-alias/telemetry {"t":1} alias=undefined',
      'v5 devices/mn5-alias/telemetry {"t":2} alias=undefined',
    ]);
  });

  it("a device on node A that node B's API disables gets DISCONNECT 0x98 Administrative action", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Disabled", id: "mn5-admin" });
    const device = await connect(nodeA, {
      clientId: "mn5-admin",
      username: "mn5-admin",
      password: credentials.password,
      protocolVersion: 5,
    });
    const disconnect = disconnectPacket(device);
    expect((await call(nodeB.httpUrl, "POST", "/api/devices/mn5-admin/disable", { token })).status).toBe(200);
    expect((await disconnect).reasonCode).toBe(0x98);
  });

  it("a device that moves to node B gets node A's connection DISCONNECT 0x8E, and node A's close does not end the session node B resumed [MQTT-3.1.4-3]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Moving", id: "mn5-moving" });
    const options = { clientId: "mn5-moving", username: "mn5-moving", password: credentials.password, protocolVersion: 5 as const };
    const lasting = { properties: { sessionExpiryInterval: 3_600 } };
    // A session with a subscription, kept in PostgreSQL after its connection ends.
    const setup = await connect(nodeB, { ...options, clean: true, ...lasting });
    await setup.subscribeAsync("devices/mn5-moving/commands/#", { qos: 1 });
    await setup.endAsync();
    // Resumed on node A by a connection whose session ends with it (expiry 0)...
    const onA = await connect(nodeA, { ...options, clean: false });
    const disconnect = disconnectPacket(onA);
    const closedOnA = new Promise<void>((resolve) =>
      nodeA.fleetwatch.broker.on("clientDisconnect", (client) => client.id === "mn5-moving" && resolve()),
    );
    // ...and taken over on node B, which resumes it for an hour. Node A ends the old connection;
    // unpatched, it then ended the session too (aedes' takeover guard knows only its own node).
    const onB = await connect(nodeB, { ...options, clean: false, ...lasting });
    expect((await disconnect).reasonCode).toBe(0x8e);
    await closedOnA;
    await onB.endAsync();
    const back = mqtt.connect(nodeB.mqttUrl, { ...options, clean: false, ...lasting, reconnectPeriod: 0 });
    clients.push(back);
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => back.once("connect", resolve));
    expect(connack.sessionPresent).toBe(true);
  });

  it("a session that expires 5 s after leaving node A, resumed on node B in time, is not ended by node A's timer [MQTT-3.1.2-23]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Roaming", id: "mn5-roaming" });
    const options = { clientId: "mn5-roaming", username: "mn5-roaming", password: credentials.password, protocolVersion: 5 as const };
    const expiring = { properties: { sessionExpiryInterval: 5 } };
    const onA = await connect(nodeA, { ...options, clean: true, ...expiring });
    await onA.subscribeAsync("devices/mn5-roaming/commands/#", { qos: 1 });
    await onA.endAsync();
    // Node A now holds a 5 s timer for the session; the client resumes it on node B at once.
    const onB = await connect(nodeB, { ...options, clean: false, ...expiring });
    const subscriptions = () =>
      nodeA.fleetwatch.database.pool
        .query<{ topic: string }>("SELECT topic FROM mqtt_subscriptions WHERE client_id = 'mn5-roaming'")
        .then(({ rows }) => rows);
    expect(await subscriptions()).toEqual([{ topic: "devices/mn5-roaming/commands/#" }]);
    // Past node A's timer (unpatched, it wiped the session node B holds).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(onB.connected).toBe(true);
    expect(await subscriptions()).toEqual([{ topic: "devices/mn5-roaming/commands/#" }]);
  });
});

describe.runIf(!redisUrl)("MQTT 5 on two nodes (skipped)", () => {
  it.skip("needs TEST_REDIS_URL", () => undefined);
});
