// Shared subscriptions ($share/{group}/{filter}, MQTT 5 section 4.8.2) on two nodes of one
// deployment (one PostgreSQL, broker traffic bridged by Redis, as in multi-node.test.ts):
// each message goes to one member of the group in the whole deployment, whichever node each
// member is connected to; the ACL applies to the filter inside.
// Needs a Redis: TEST_REDIS_URL (.ci/run sets it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { startTwoNodes, type TestServer, type TwoNodes } from "../../../test/support/fleetwatch.ts";
import { apiToken, registerDevice } from "../../../test/support/api.ts";
import { connectClient, subackCodes } from "../../../test/support/mqtt.ts";

const redisUrl = process.env.TEST_REDIS_URL;
let nodes: TwoNodes | undefined;
let nodeA: TestServer;
let nodeB: TestServer;
let token: string;
const clients: MqttClient[] = [];

const connect = (node: TestServer, options: IClientOptions) => connectClient(node.mqttUrl, options, clients);

/** Every message a client receives, by payload. */
function collect(client: MqttClient): string[] {
  const received: string[] = [];
  client.on("message", (_topic, payload) => received.push(payload.toString()));
  return received;
}

const operator = (clientId: string, extra: IClientOptions = {}): IClientOptions => ({
  clientId,
  username: "token",
  password: token,
  ...extra,
});

/**
 * Publishes numbered probes until every member has received one, so that the publishing node
 * knows them all; returns the probes sent. (Nodes learn of a member through the database and a
 * broadcast, so a member is eligible a moment after its SUBACK; the test waits on that, not on a clock.)
 */
async function untilEach(publisher: MqttClient, topic: string, label: string, members: string[][]): Promise<void> {
  for (let i = 0; ; i++) {
    await publisher.publishAsync(topic, `${label}-${i}`, { qos: 1 });
    if (members.every((received) => received.some((payload) => payload.startsWith(`${label}-`)))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (i > 500) throw new Error(`not every member got a ${label} message`);
  }
}

describe.skipIf(!redisUrl)("shared subscriptions across two nodes [MQTT-4.8.2]", () => {
  beforeAll(async () => {
    nodes = await startTwoNodes(redisUrl as string);
    ({ nodeA, nodeB } = nodes);
    token = await apiToken(nodeA.httpUrl);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await nodes?.close();
  });

  it("delivers each message to exactly one member of the group in the whole deployment, members on both nodes getting some, while an ordinary subscriber gets them all", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Shared source", id: "share-src" });
    const topic = "devices/share-src/telemetry";
    const memberA = await connect(nodeA, operator("operator:share-a"));
    // One member speaks MQTT 3.1.1, the other MQTT 5 (whose CONNACK says shared subscriptions work [MQTT-3.2.2-13]).
    const memberB = mqtt.connect(nodeB.mqttUrl, { reconnectPeriod: 0, ...operator("operator:share-b", { protocolVersion: 5 }) });
    clients.push(memberB);
    const connack = await new Promise<IConnackPacket>(
      (resolve, reject) => (memberB.once("connect", resolve), memberB.once("error", reject)),
    );
    expect(connack.properties?.sharedSubscriptionAvailable).toBe(true);
    const everything = await connect(nodeB, operator("operator:share-all"));
    const [receivedA, receivedB, receivedAll] = [collect(memberA), collect(memberB), collect(everything)];
    expect(await subackCodes(memberA, "$share/workers/devices/+/telemetry", 1)).toEqual([1]);
    expect(await subackCodes(memberB, "$share/workers/devices/+/telemetry", 1)).toEqual([1]);
    await everything.subscribeAsync("devices/+/telemetry", { qos: 1 });

    const device = await connect(nodeA, { clientId: "share-src", username: "share-src", password: credentials.password });
    await untilEach(device, topic, "probe", [receivedA, receivedB]);

    const count = 60;
    for (let i = 0; i < count; i++) await device.publishAsync(topic, `m-${i}`, { qos: 1 });
    // Fences after the measured messages: once each member has one, every earlier message meant
    // for it has arrived (one publisher, one route per member, in order [MQTT-4.6.0-2]).
    await untilEach(device, topic, "fence", [receivedA, receivedB]);

    const measured = (received: string[]) => received.filter((payload) => payload.startsWith("m-"));
    const delivered = [...measured(receivedA), ...measured(receivedB)].sort();
    const expected = Array.from({ length: count }, (_, i) => `m-${i}`).sort();
    expect(delivered).toEqual(expected); // each once: none lost, none twice
    expect(measured(receivedA).length).toBeGreaterThan(0);
    expect(measured(receivedB).length).toBeGreaterThan(0);
    await expect.poll(() => measured(receivedAll).sort(), { timeout: 10_000 }).toEqual(expected);
  });

  it("sends everything to the remaining member once the other unsubscribes, on either node", async () => {
    const { credentials } = await registerDevice(nodeB.httpUrl, token, { name: "Shared leave", id: "share-leave" });
    const topic = "devices/share-leave/telemetry";
    const stays = await connect(nodeA, operator("operator:share-stays"));
    const leaves = await connect(nodeB, operator("operator:share-leaves"));
    const [receivedStays, receivedLeaves] = [collect(stays), collect(leaves)];
    await stays.subscribeAsync("$share/leavers/devices/share-leave/#", { qos: 1 });
    await leaves.subscribeAsync("$share/leavers/devices/share-leave/#", { qos: 1 });
    const device = await connect(nodeB, { clientId: "share-leave", username: "share-leave", password: credentials.password });
    await untilEach(device, topic, "probe", [receivedStays, receivedLeaves]);

    await leaves.unsubscribeAsync("$share/leavers/devices/share-leave/#");
    // The leaver's last message arrived before its UNSUBACK, so from here on it gets none, once
    // the publishing node has heard of the change: wait for a message through the other member
    // after which the leaver gets nothing more.
    const before = receivedLeaves.length;
    for (let i = 0; i < 20; i++) await device.publishAsync(topic, `after-${i}`, { qos: 1 });
    await expect
      .poll(() => receivedStays.filter((payload) => payload.startsWith("after-")).length + receivedLeaves.length - before, {
        timeout: 10_000,
      })
      .toBe(20);
    expect(receivedLeaves.length).toBe(before);
  });

  it("queues QoS 1 messages for an offline persistent member when no member is online, and delivers them when it reconnects to the other node", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Shared offline", id: "share-offline" });
    const topic = "devices/share-offline/telemetry";
    const persistent = operator("operator:share-persistent", { clean: false });
    const member = await connect(nodeB, persistent);
    const firstSession = collect(member);
    await member.subscribeAsync("$share/sleepers/devices/share-offline/#", { qos: 1 });
    const device = await connect(nodeA, { clientId: "share-offline", username: "share-offline", password: credentials.password });
    await untilEach(device, topic, "probe", [firstSession]);
    await member.endAsync();

    for (let i = 0; i < 3; i++) await device.publishAsync(topic, `queued-${i}`, { qos: 1 });

    const back = mqtt.connect(nodeA.mqttUrl, { reconnectPeriod: 0, ...persistent });
    clients.push(back);
    const secondSession = collect(back);
    await expect
      .poll(() => secondSession.filter((payload) => payload.startsWith("queued-")), { timeout: 10_000 })
      .toEqual(["queued-0", "queued-1", "queued-2"]);
  });

  it("applies the ACL to the filter inside $share/{group}/: a device shares only its own topics, and malformed shared filters are refused (SUBACK 0x80) [MQTT-4.8.2-1, MQTT-4.8.2-2]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Shared acl", id: "share-acl" });
    const device = await connect(nodeB, { clientId: "share-acl", username: "share-acl", password: credentials.password });
    expect(await subackCodes(device, "$share/g/devices/share-acl/commands/#", 1)).toEqual([1]);
    expect(await subackCodes(device, "$share/g/devices/other-device/#", 1)).toEqual([0x80]);
    expect(await subackCodes(device, "$share/g/#", 1)).toEqual([0x80]);
    // Malformed, yet valid as plain filters: refused, never subscribed literally. (One that is not
    // a valid filter at all, "$share/g+/x", closes the connection like any invalid filter.)
    const admin = await connect(nodeA, operator("operator:share-malformed"));
    for (const malformed of ["$share/g", "$share//devices/#"]) expect(await subackCodes(admin, malformed, 1), malformed).toEqual([0x80]);
  });

  it("answers an MQTT 5 client's refused or malformed shared filter with SUBACK 0x87, Not authorized, and closes on No Local [MQTT-4.8.2-1, MQTT-4.8.2-2, MQTT-3.8.3-4]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Shared acl v5", id: "share-acl5" });
    const device = await connect(nodeA, {
      clientId: "share-acl5",
      username: "share-acl5",
      password: credentials.password,
      protocolVersion: 5,
    });
    expect(await subackCodes(device, "$share/g/devices/share-acl5/commands/#", 1)).toEqual([1]);
    expect(await subackCodes(device, "$share/g/devices/other-device/#", 1)).toEqual([0x87]);
    const admin = await connect(nodeB, operator("operator:share-malformed5", { protocolVersion: 5 }));
    for (const malformed of ["$share/g", "$share//devices/#"]) expect(await subackCodes(admin, malformed, 1), malformed).toEqual([0x87]);

    // No Local on a shared subscription is a Protocol Error: the connection is closed [MQTT-3.8.3-4].
    const closedConnection = new Promise<void>((resolve) => admin.once("close", () => resolve()));
    admin.subscribe("$share/g/devices/#", { qos: 1, nl: true }, () => undefined);
    await closedConnection;
  });
});
