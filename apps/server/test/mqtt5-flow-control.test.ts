// MQTT 5 flow control and server-to-client topic aliases (our aedes patch, lib/client.js and
// handlers/publish.js), through the real server with real clients over sockets: Receive
// Maximum in both directions [MQTT-3.3.4-7, MQTT-3.3.4-9] and topic aliases towards a client
// [MQTT-3.3.2-9..-12]. Raw sockets (mqtt-packet) where MQTT.js hides the wire: withheld
// acknowledgements, aliases as sent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { MqttClient } from "mqtt";
import mqttPacket, { type IPublishPacket, type Packet } from "mqtt-packet";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, registerDevice } from "../../../test/support/api.ts";
import { connectClient, remainingLength } from "../../../test/support/mqtt.ts";
import { connectRaw, type RawMqttClient } from "../../../test/support/raw-mqtt.ts";

const RECEIVE_MAXIMUM = 20;
const QUEUE_LIMIT = 30;

let server: TestServer;
let adminToken: string;
const secrets: Record<string, string> = {};
const clients: MqttClient[] = [];
const raws: RawMqttClient[] = [];
const port = () => Number(new URL(server.mqttUrl).port);

beforeAll(async () => {
  server = await startTestServer({
    MQTT_RECEIVE_MAXIMUM: String(RECEIVE_MAXIMUM),
    SESSION_QUEUE_LIMIT: String(QUEUE_LIMIT),
    MQTT_PUBLISH_RATE: "100000",
    MQTT_PUBLISH_BURST: "100000",
  });
  adminToken = await apiToken(server.httpUrl);
  for (const id of ["flow-at-max", "flow-over-max", "flow-device"])
    secrets[id] = (await registerDevice(server.httpUrl, adminToken, { name: id, id })).credentials.password;
});
afterAll(async () => {
  for (const raw of raws) raw.close();
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
});

/** An operator's raw connection (operators may subscribe to any topic). */
async function operatorRaw(
  clientId: string,
  options: { protocolVersion?: 4 | 5; properties?: Record<string, unknown>; clean?: boolean } = {},
) {
  const raw = await connectRaw(port(), clientId, { clean: options.clean ?? true, username: "token", password: adminToken, ...options });
  raws.push(raw);
  return raw;
}

/** A registered device's raw MQTT 5 connection, with its own credentials. */
async function deviceRaw(deviceId: string) {
  const raw = await connectRaw(port(), deviceId, { clean: true, username: deviceId, password: secrets[deviceId]!, protocolVersion: 5 });
  raws.push(raw);
  return raw;
}

async function subscribeRaw(raw: RawMqttClient, topic: string, qos: 0 | 1 | 2, messageId = 1) {
  raw.send({ cmd: "subscribe", messageId, subscriptions: [{ topic, qos }] });
  const suback = (await raw.next("suback")) as { granted: number[] };
  expect(suback.granted).toEqual([qos]);
}

/** The broker publishes (as the platform does), resolving once aedes has handed the message to every subscriber. */
const brokerPublish = (topic: string, payload: string, qos: 0 | 1 | 2 = 1) =>
  new Promise<void>((resolve, reject) =>
    server.fleetwatch.broker.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (error) =>
      error ? reject(error) : resolve(),
    ),
  );

/**
 * Everything the server wrote before answering this PINGREQ has arrived: packets on one
 * connection arrive in the order they were written, so a PUBLISH sent is never still on its way.
 */
async function settle(raw: RawMqttClient): Promise<void> {
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
}

async function takePublishes(raw: RawMqttClient, count: number): Promise<IPublishPacket[]> {
  const packets: IPublishPacket[] = [];
  for (let i = 0; i < count; i++) packets.push((await raw.next("publish")) as IPublishPacket);
  return packets;
}

const qos1Burst = (topic: string, count: number, firstId = 1): Packet[] =>
  Array.from({ length: count }, (_, i) => ({
    cmd: "publish",
    topic,
    payload: Buffer.from(`{"n":${i}}`),
    qos: 1,
    messageId: firstId + i,
    dup: false,
    retain: false,
  }));

describe("Receive Maximum towards the broker (MQTT_RECEIVE_MAXIMUM)", () => {
  it("is announced in an MQTT 5 CONNACK [MQTT-3.2.2-15 Receive Maximum]", async () => {
    const raw = await operatorRaw("flow-connack", { protocolVersion: 5 });
    expect((raw.connack as { properties?: { receiveMaximum?: number } }).properties?.receiveMaximum).toBe(RECEIVE_MAXIMUM);
    raw.close();
  });

  it("a client with exactly Receive Maximum QoS 1 PUBLISHes unacknowledged gets every PUBACK and keeps its connection", async () => {
    const raw = await deviceRaw("flow-at-max");
    // One write: the broker reads them in one chunk, before it acknowledges any.
    raw.sendBytes(Buffer.concat(qos1Burst("devices/flow-at-max/telemetry", RECEIVE_MAXIMUM).map(generate)));
    const acks = [];
    for (let i = 0; i < RECEIVE_MAXIMUM; i++) acks.push(((await raw.next("puback", 15_000)) as { messageId: number }).messageId);
    expect(acks.sort((a, b) => a - b)).toEqual(Array.from({ length: RECEIVE_MAXIMUM }, (_, i) => i + 1));
    await settle(raw);
    expect(raw.isClosed()).toBe(false);
    raw.close();
  });

  it("one QoS 1 PUBLISH more than Receive Maximum unacknowledged gets DISCONNECT 0x93 Receive Maximum exceeded [MQTT-3.3.4-9]", async () => {
    const raw = await deviceRaw("flow-over-max");
    raw.sendBytes(Buffer.concat(qos1Burst("devices/flow-over-max/telemetry", RECEIVE_MAXIMUM + 1).map(generate)));
    expect(await raw.next("disconnect", 15_000)).toMatchObject({ reasonCode: 0x93 });
    await raw.closed;
  });
});

describe("the client's Receive Maximum (what the broker sends)", () => {
  it("a client with Receive Maximum 2 that withholds its PUBACKs has 2 QoS 1 messages in flight; the rest follow its acks, in order, none lost [MQTT-3.3.4-7]", async () => {
    const raw = await operatorRaw("flow-rm2", { protocolVersion: 5, properties: { receiveMaximum: 2 } });
    await subscribeRaw(raw, "flow/rm2/#", 1);
    for (let i = 0; i < 10; i++) await brokerPublish(`flow/rm2/${i % 3}`, String(i));
    await settle(raw);
    expect(raw.pending("publish")).toBe(2);

    const received: IPublishPacket[] = [];
    while (received.length < 10) {
      const [next] = await takePublishes(raw, 1);
      received.push(next!);
      // Acknowledge one, then check that no more than 2 are ever unacknowledged.
      if (received.length >= 2) {
        const oldest = received[received.length - 2]!;
        raw.send({ cmd: "puback", messageId: oldest.messageId! });
        await settle(raw);
        expect(raw.pending("publish")).toBeLessThanOrEqual(1);
      }
    }
    expect(received.map((packet) => packet.payload.toString())).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(received.map((packet) => packet.topic)).toEqual(Array.from({ length: 10 }, (_, i) => `flow/rm2/${i % 3}`));
    raw.send({ cmd: "puback", messageId: received.at(-1)!.messageId! });
    raw.close();
  });

  it("QoS 2: a message stays in flight until PUBCOMP (a PUBREC is not enough), and a PUBREC >= 0x80 ends it [MQTT-4.9.0]", async () => {
    const raw = await operatorRaw("flow-rm1-q2", { protocolVersion: 5, properties: { receiveMaximum: 1 } });
    await subscribeRaw(raw, "flow/rm1q2", 2);
    for (let i = 0; i < 3; i++) await brokerPublish("flow/rm1q2", String(i), 2);
    const [first] = await takePublishes(raw, 1);
    raw.send({ cmd: "pubrec", messageId: first!.messageId! });
    expect(await raw.next("pubrel")).toMatchObject({ messageId: first!.messageId });
    await settle(raw);
    expect(raw.pending("publish")).toBe(0);
    raw.send({ cmd: "pubcomp", messageId: first!.messageId! });
    const [second] = await takePublishes(raw, 1);
    expect(second!.payload.toString()).toBe("1");
    // Refused (0x80 Unspecified error): the flow ends without a PUBREL, and the third is sent.
    raw.send({ cmd: "pubrec", messageId: second!.messageId!, reasonCode: 0x80 });
    const [third] = await takePublishes(raw, 1);
    expect(third!.payload.toString()).toBe("2");
    expect(raw.pending("pubrel")).toBe(0);
    raw.close();
  });

  it("QoS 0 messages are not held back by the Receive Maximum (only QoS 1 and 2 count) [MQTT-4.9.0-2]", async () => {
    const raw = await operatorRaw("flow-rm1-q0", { protocolVersion: 5, properties: { receiveMaximum: 1 } });
    await subscribeRaw(raw, "flow/rm1q0/#", 1);
    await brokerPublish("flow/rm1q0/a", "held-1", 1);
    await brokerPublish("flow/rm1q0/a", "held-2", 1);
    await brokerPublish("flow/rm1q0/b", "q0", 0);
    await settle(raw);
    const packets = await takePublishes(raw, 2);
    expect(packets.map((packet) => packet.payload.toString())).toEqual(["held-1", "q0"]);
    raw.close();
  });

  it("a persistent session's queue is replayed on reconnect within the Receive Maximum, in order, none lost", async () => {
    const properties = { receiveMaximum: 2, sessionExpiryInterval: 300 };
    const first = await operatorRaw("flow-replay", { protocolVersion: 5, properties, clean: true });
    await subscribeRaw(first, "flow/replay", 1);
    for (let i = 0; i < 8; i++) await brokerPublish("flow/replay", String(i));
    await takePublishes(first, 2);
    first.close();
    await first.closed;

    const again = await operatorRaw("flow-replay", { protocolVersion: 5, properties, clean: false });
    expect((again.connack as { sessionPresent?: boolean }).sessionPresent).toBe(true);
    const received: string[] = [];
    const ids: number[] = [];
    while (received.length < 8) {
      const [packet] = await takePublishes(again, 1);
      received.push(packet!.payload.toString());
      ids.push(packet!.messageId!);
      await settle(again);
      // Never more than 2 unacknowledged: the one just taken and at most one more.
      expect(again.pending("publish")).toBeLessThanOrEqual(1);
      if (ids.length >= 2) again.send({ cmd: "puback", messageId: ids[ids.length - 2]! });
    }
    again.send({ cmd: "puback", messageId: ids.at(-1)! });
    expect(received).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    again.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  });

  it(`beyond SESSION_QUEUE_LIMIT (${QUEUE_LIMIT}) messages waiting for a client that never acknowledges, the oldest waiting is dropped and counted`, async () => {
    const raw = await operatorRaw("flow-never-acks", { protocolVersion: 5, properties: { receiveMaximum: 1 } });
    await subscribeRaw(raw, "flow/never", 1);
    const before = server.fleetwatch.counters.get("publish_over_client_receive_maximum");
    // 1 in flight, QUEUE_LIMIT waiting, 3 more: the 3 oldest waiting go.
    for (let i = 0; i < 1 + QUEUE_LIMIT + 3; i++) await brokerPublish("flow/never", String(i));
    expect(server.fleetwatch.counters.get("publish_over_client_receive_maximum") - before).toBe(3);
    const received: string[] = [];
    while (received.length < 1 + QUEUE_LIMIT) {
      const [packet] = await takePublishes(raw, 1);
      received.push(packet!.payload.toString());
      raw.send({ cmd: "puback", messageId: packet!.messageId! });
    }
    expect(received).toEqual(["0", ...Array.from({ length: QUEUE_LIMIT }, (_, i) => String(i + 4))]);
    raw.close();
  });

  it("an MQTT 3.1.1 client is not held back: it gets every QoS 1 message without acknowledging any", async () => {
    const raw = await operatorRaw("flow-v311", { protocolVersion: 4 });
    await subscribeRaw(raw, "flow/v311/#", 1);
    for (let i = 0; i < 10; i++) await brokerPublish(`flow/v311/${i % 2}`, String(i));
    const packets = await takePublishes(raw, 10);
    expect(packets.map((packet) => packet.payload.toString())).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(packets.map((packet) => packet.topic)).toEqual(Array.from({ length: 10 }, (_, i) => `flow/v311/${i % 2}`));
    raw.close();
  });
});

describe("topic aliases towards the client", () => {
  it("a client with Topic Alias Maximum 2 gets aliases 1 and 2 for the first two topics, the full topic first and an empty one after; other topics, and QoS 2, in full [MQTT-3.3.2-9..-12]", async () => {
    const raw = await operatorRaw("flow-alias2", { protocolVersion: 5, properties: { topicAliasMaximum: 2 } });
    await subscribeRaw(raw, "flow/alias2/#", 2);
    const topics = ["a", "b", "c", "a", "b", "c", "a"].map((name) => `flow/alias2/${name}`);
    for (const [i, topic] of topics.entries()) await brokerPublish(topic, String(i));
    // QoS 2 goes with its full topic (MQTT.js 5.16 loses an aliased QoS 2 message's topic), the alias stays set up.
    await brokerPublish("flow/alias2/a", "q2", 2);
    await brokerPublish("flow/alias2/a", "after", 1);
    const wire = (await takePublishes(raw, topics.length + 2)).map((packet) => ({
      topic: packet.topic,
      alias: packet.properties?.topicAlias,
    }));
    expect(wire).toEqual([
      { topic: "flow/alias2/a", alias: 1 },
      { topic: "flow/alias2/b", alias: 2 },
      { topic: "flow/alias2/c", alias: undefined },
      { topic: "", alias: 1 },
      { topic: "", alias: 2 },
      { topic: "flow/alias2/c", alias: undefined },
      { topic: "", alias: 1 },
      { topic: "flow/alias2/a", alias: undefined },
      { topic: "", alias: 1 },
    ]);
    raw.close();
  });

  it("aliases belong to the connection: after reconnecting, the first PUBLISH of a topic carries the topic again [MQTT-3.3.2-7]", async () => {
    for (let round = 0; round < 2; round++) {
      const raw = await operatorRaw(`flow-alias-conn-${round}`, { protocolVersion: 5, properties: { topicAliasMaximum: 5 } });
      await subscribeRaw(raw, "flow/aliasconn", 0);
      await brokerPublish("flow/aliasconn", "x", 0);
      const [packet] = await takePublishes(raw, 1);
      expect({ topic: packet!.topic, alias: packet!.properties?.topicAlias }).toEqual({ topic: "flow/aliasconn", alias: 1 });
      raw.close();
    }
  });

  it("a client that announces no Topic Alias Maximum (or 0) gets none, and an MQTT 3.1.1 client none either", async () => {
    const none = await operatorRaw("flow-alias-none", { protocolVersion: 5 });
    const zero = await operatorRaw("flow-alias-zero", { protocolVersion: 5, properties: { topicAliasMaximum: 0 } });
    const v311 = await operatorRaw("flow-alias-v311", { protocolVersion: 4 });
    for (const raw of [none, zero, v311]) await subscribeRaw(raw, "flow/noalias", 0);
    for (let i = 0; i < 3; i++) await brokerPublish("flow/noalias", String(i), 0);
    for (const raw of [none, zero, v311]) {
      const packets = await takePublishes(raw, 3);
      expect(packets.map((packet) => [packet.topic, packet.properties?.topicAlias])).toEqual([
        ["flow/noalias", undefined],
        ["flow/noalias", undefined],
        ["flow/noalias", undefined],
      ]);
      raw.close();
    }
  });

  it("with a Maximum Packet Size too, no PUBLISH on the wire exceeds it, the topic alias and subscription identifier included [MQTT-3.1.2-24]", async () => {
    const maximumPacketSize = 200;
    const raw = await operatorRaw("flow-alias-mps", { protocolVersion: 5, properties: { topicAliasMaximum: 10, maximumPacketSize } });
    // The largest subscription identifier: a 4-byte variable byte integer on every PUBLISH.
    raw.send({
      cmd: "subscribe",
      messageId: 1,
      properties: { subscriptionIdentifier: 268_435_455 },
      subscriptions: [{ topic: "flow/mps/#", qos: 1 }],
    });
    expect(await raw.next("suback")).toMatchObject({ granted: [1] });
    // Payload sizes around the limit, first PUBLISHes of their topic (topic and alias) and later ones (alias only).
    for (let i = 0; i < 24; i++) await brokerPublish(`flow/mps/${i % 12}`, "x".repeat(160 + i));
    await settle(raw);
    const sizes = (await takePublishes(raw, raw.pending("publish"))).map(({ length }) => 1 + remainingLength(length!).length + length!);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(maximumPacketSize);
    raw.close();
  });

  it.each([
    ["an ordinary", "flow/edge/#", "flow/edge"],
    ["a shared", "$share/edge/flow/shared-edge/#", "flow/shared-edge"],
  ])(
    "through %s subscription, a topic's first aliased PUBLISH (topic and alias) with the largest subscription identifier stays within the Maximum Packet Size at the limit's edge [MQTT-3.1.2-24]",
    async (_kind, filter, base) => {
      const maximumPacketSize = 200;
      const raw = await operatorRaw(`flow-alias-edge-${base.length}`, {
        protocolVersion: 5,
        properties: { topicAliasMaximum: 10, maximumPacketSize },
      });
      raw.send({
        cmd: "subscribe",
        messageId: 1,
        properties: { subscriptionIdentifier: 268_435_455 },
        subscriptions: [{ topic: filter, qos: 1 }],
      });
      expect(await raw.next("suback")).toMatchObject({ granted: [1] });
      // Ten new topics (the server's alias maximum), so each PUBLISH is its topic's first, carrying
      // both the topic and its alias; their sizes walk up to the limit and past it.
      for (let i = 0; i < 10; i++) await brokerPublish(`${base}/${i}`, "x".repeat(156 + 2 * i));
      await settle(raw);
      const publishes = await takePublishes(raw, raw.pending("publish"));
      const sizes = publishes.map(({ length }) => 1 + remainingLength(length!).length + length!);
      expect(publishes.every((p) => p.properties?.topicAlias !== undefined && p.topic !== "")).toBe(true);
      // The smaller ones are sent, the larger ones are not (the walk crossed the limit), and none exceeds it.
      expect(sizes.length).toBeGreaterThan(0);
      expect(sizes.length).toBeLessThan(10);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(maximumPacketSize);
      raw.close();
    },
  );

  it("MQTT.js resolves the aliases it is sent to the topics a device published to", async () => {
    const watcher = await connectClient(
      server.mqttUrl,
      { clientId: "flow-alias-mqttjs", username: "token", password: adminToken, protocolVersion: 5, properties: { topicAliasMaximum: 3 } },
      clients,
    );
    const received: string[] = [];
    watcher.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync("devices/flow-device/#", { qos: 1 });
    const device = await connectClient(
      server.mqttUrl,
      { clientId: "flow-device", username: "flow-device", password: secrets["flow-device"]!, protocolVersion: 5 },
      clients,
    );
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const topic = `devices/flow-device/${["telemetry", "status", "telemetry", "events/a", "events/b", "telemetry"][i]}`;
      await device.publishAsync(topic, `{"n":${i}}`, { qos: 1 });
      sent.push(`${topic} {"n":${i}}`);
    }
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(sent.length);
    expect(received).toEqual(sent);
  });
});

describe("any Receive Maximum and Topic Alias Maximum (property)", () => {
  it("every message reaches an MQTT.js client with its own topic, in order, whatever the two maximums and the topic sequence", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.constantFrom("a", "b", "c", "d/e", "f/g/h"), { minLength: 1, maxLength: 12 }),
        fc.constantFrom<0 | 1 | 2>(0, 1, 2),
        async (receiveMaximum, topicAliasMaximum, names, qos) => {
          run += 1;
          const base = `flow/prop/${run}`;
          const client = await connectClient(server.mqttUrl, {
            clientId: `flow-prop-${run}`,
            username: "token",
            password: adminToken,
            protocolVersion: 5,
            properties: { receiveMaximum, ...(topicAliasMaximum > 0 ? { topicAliasMaximum } : {}) },
          });
          try {
            const received: string[] = [];
            client.on("message", (topic, payload) => received.push(`${topic} ${payload.toString()}`));
            await client.subscribeAsync(`${base}/#`, { qos });
            const sent = names.map((name, i) => `${base}/${name} ${i}`);
            for (const [i, name] of names.entries()) await brokerPublish(`${base}/${name}`, String(i), qos);
            await expect.poll(() => received.length, { timeout: 10_000 }).toBe(sent.length);
            expect(received).toEqual(sent);
          } finally {
            await client.endAsync(true);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});

const generate = (packet: Packet): Buffer => mqttPacket.generate(packet, { protocolVersion: 5 });
