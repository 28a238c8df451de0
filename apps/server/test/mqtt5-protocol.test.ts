// MQTT 5 clients (MQTT.js with protocolVersion 5, over real sockets) against the real server
// and PostgreSQL: what CONNACK announces, reason codes instead of silent disconnects, server
// keep alive, assigned client identifiers, topic aliases, subscription options and identifiers.
// MQTT 3.1.1 clients keep today's behaviour (the broker*.test.ts files, unchanged).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IConnackPacket, type IDisconnectPacket, type MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { connackCode, connackCodeFrom, rawSocket, remainingLength, subackCodes } from "../../../test/support/mqtt.ts";
import { connectRaw } from "../../../test/support/raw-mqtt.ts";

let server: TestServer;
let adminToken: string;
const secrets: Record<string, string> = {};
const clients: MqttClient[] = [];
const port = () => Number(new URL(server.mqttUrl).port);
const DEVICES = ["v5-a", "v5-b", "v5-quota", "v5-disabled", "v5-admin", "v5-taken", "v5-null", "v5-alias", "v5-opts", "v5-exp", "v5-max"];

beforeAll(async () => {
  server = await startTestServer({
    MQTT_MAX_KEEPALIVE_S: "600",
    MQTT_PUBLISH_RATE: "1",
    MQTT_PUBLISH_BURST: "20",
    // Many deliberate failures from one address: the throttle is tested on a server of its own.
    MQTT_AUTH_FAILURES_PER_MINUTE: "100000",
  });
  adminToken = await apiToken(server.httpUrl);
  for (const id of DEVICES) secrets[id] = (await registerDevice(server.httpUrl, adminToken, { name: id, id })).credentials.password;
  expect((await call(server.httpUrl, "POST", "/api/devices/v5-disabled/disable", { token: adminToken })).status).toBe(200);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
});

const v5 = (options: IClientOptions): IClientOptions => ({ protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
const device = (id: string, extra: IClientOptions = {}) => v5({ clientId: id, username: id, password: secrets[id], ...extra });
const operator = (extra: IClientOptions = {}) =>
  v5({ clientId: `ops_${Math.random().toString(36).slice(2)}`, username: "token", password: adminToken, ...extra });

/** Connects and resolves with the client and its CONNACK. */
async function connect(options: IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(server.mqttUrl, options);
  clients.push(client);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  return { client, connack };
}

/** The CONNACK (MQTT 5) a raw CONNECT gets, for what MQTT.js will not send. */
async function rawConnackPacket(connectBytes: Buffer): Promise<mqttPacket.Packet> {
  const socket = await rawSocket(server.mqttUrl);
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const connack = new Promise<mqttPacket.Packet>((resolve) => parser.once("packet", resolve));
  socket.on("data", (chunk: Buffer) => parser.parse(chunk));
  socket.on("error", () => undefined);
  socket.write(connectBytes);
  const packet = await connack;
  socket.destroy();
  return packet;
}

const disconnectPacket = (client: MqttClient) =>
  new Promise<IDisconnectPacket>((resolve) => client.once("disconnect", (packet: IDisconnectPacket) => resolve(packet)));

describe("CONNACK", () => {
  it("announces Maximum Packet Size (MQTT_MAX_PACKET_BYTES) and Topic Alias Maximum, and no shared subscriptions [MQTT-3.2.2-15]", async () => {
    const { connack } = await connect(device("v5-a"));
    expect(connack.reasonCode).toBe(0);
    // Shared subscriptions work across nodes (shared-subscriptions.test.ts) [MQTT-3.2.2-13].
    expect(connack.properties).toMatchObject({ maximumPacketSize: 262_144, topicAliasMaximum: 10, sharedSubscriptionAvailable: true });
    expect(connack.properties?.serverKeepAlive).toBeUndefined();
    await clients.at(-1)!.endAsync();
  });

  it("lowers a keepalive above MQTT_MAX_KEEPALIVE_S through Server Keep Alive instead of refusing it [MQTT-3.2.2-21]", async () => {
    const { client, connack } = await connect(device("v5-a", { keepalive: 7_200 }));
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.serverKeepAlive).toBe(600);
    await client.endAsync();
  });

  it("assigns an operator's client identifier when it sends none, whatever Clean Start says [MQTT-3.2.2-16]", async () => {
    const { client, connack } = await connect(operator({ clientId: "" }));
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.assignedClientIdentifier).toMatch(/\S+/);
    await client.endAsync();
    // Neither MQTT.js nor mqtt-packet will send Clean Start 0 without an identifier, which
    // MQTT 5 allows [MQTT-3.1.3-7]: the CONNECT by hand.
    const string = (value: string) => {
      const bytes = Buffer.from(value);
      return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
    };
    const body = Buffer.concat([
      string("MQTT"),
      // level 5; flags: user name, password, Clean Start 0; keepalive 30; no properties
      Buffer.from([5, 0xc0, 0, 30, 0]),
      string(""),
      string("token"),
      string(adminToken),
    ]);
    const connackPacket = await rawConnackPacket(Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]));
    expect(connackPacket).toMatchObject({ reasonCode: 0, properties: { assignedClientIdentifier: expect.stringMatching(/\S+/) } });
  });

  const refusals: [string, () => IClientOptions, number][] = [
    [
      "a device without an identifier: 0x85 Client Identifier not valid (devices must use their id)",
      () => device("v5-a", { clientId: "" }),
      0x85,
    ],
    ["a device presenting another device's id: 0x85", () => device("v5-a", { clientId: "v5-b" }), 0x85],
    ["a wrong password: 0x86 Bad User Name or Password", () => device("v5-a", { password: "wrong" }), 0x86],
    ["an unknown device: 0x87 Not authorized", () => v5({ clientId: "nobody", username: "nobody", password: "x" }), 0x87],
    ["a disabled device: 0x8A Banned", () => device("v5-disabled"), 0x8a],
    [
      "a will outside the device's namespace: 0x87",
      () => device("v5-a", { will: { topic: "devices/v5-b/status", payload: Buffer.from("x"), qos: 0, retain: false } }),
      0x87,
    ],
    [
      "an authentication method (enhanced authentication is not supported): 0x8C Bad authentication method",
      () => device("v5-a", { properties: { authenticationMethod: "SCRAM-SHA-1" } }),
      0x8c,
    ],
  ];
  for (const [name, options, code] of refusals)
    it(`refuses ${name} [MQTT-3.2.2-6]`, async () => {
      expect(await connackCode(server.mqttUrl, options())).toBe(code);
    });

  it("refuses an address over MQTT_AUTH_FAILURES_PER_MINUTE with 0x9F Connection rate exceeded", async () => {
    const throttled = await startTestServer({ MQTT_AUTH_FAILURES_PER_MINUTE: "5" });
    const connect = (password: string) =>
      mqttPacket.generate({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 5,
        clientId: "v5-b",
        clean: true,
        keepalive: 30,
        username: "v5-b",
        password: Buffer.from(password),
      });
    try {
      const codes: number[] = [];
      // (An unknown device: this server has none.)
      for (let i = 0; i < 6; i++) codes.push(await connackCodeFrom(throttled.mqttUrl, connect("wrong")));
      expect(codes).toEqual([0x87, 0x87, 0x87, 0x87, 0x87, 0x9f]);
    } finally {
      await throttled.close();
    }
  });
});

describe("PUBLISH refusals: a reason code, and the connection stays [MQTT-3.4.2-1]", () => {
  it("QoS 1 to another device's topic gets PUBACK 0x87, QoS 2 PUBREC 0x87; the next message is accepted", async () => {
    const { client } = await connect(device("v5-b"));
    await expect(client.publishAsync("devices/v5-a/telemetry", '{"t":1}', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(client.publishAsync("devices/v5-a/telemetry", '{"t":1}', { qos: 2 })).rejects.toMatchObject({ code: 0x87 });
    await client.publishAsync("devices/v5-b/telemetry", '{"t":2}', { qos: 1 });
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it("over the device's publish quota: PUBACK 0x97 Quota exceeded, and the connection stays", async () => {
    const { client } = await connect(device("v5-quota"));
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => client.publishAsync("devices/v5-quota/telemetry", `{"n":${i}}`, { qos: 1 })),
    );
    const codes = results.map((result) => (result.status === "fulfilled" ? 0 : (result.reason as { code: number }).code));
    expect(codes.filter((code) => code === 0).length).toBeGreaterThanOrEqual(20);
    expect(codes.filter((code) => code === 0x97).length).toBeGreaterThan(0);
    expect(codes.every((code) => code === 0 || code === 0x97)).toBe(true);
    expect(client.connected).toBe(true);
    await client.endAsync();
  });

  it("U+0000 in a user property: DISCONNECT 0x81 Malformed Packet [MQTT-1.5.4-2]", async () => {
    const { client } = await connect(device("v5-null"));
    const disconnect = disconnectPacket(client);
    client.publish("devices/v5-null/telemetry", '{"t":1}', { qos: 1, properties: { userProperties: { note: "a\u0000b" } } });
    expect((await disconnect).reasonCode).toBe(0x81);
  });

  it("U+0000 in the topic name: DISCONNECT 0x81 [MQTT-1.5.4-2]", async () => {
    const raw = await connectRaw(port(), "v5-null", {
      clean: true,
      username: "v5-null",
      password: secrets["v5-null"]!,
      protocolVersion: 5,
    });
    raw.send({
      cmd: "publish",
      topic: "devices/v5-null/a\u0000b",
      payload: Buffer.from("x"),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    });
    expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x81 });
    await raw.closed;
  });
});

describe("SUBSCRIBE", () => {
  it("a refused filter gets SUBACK 0x87 Not authorized, the allowed one its QoS [MQTT-3.9.3-1]", async () => {
    const { client } = await connect(device("v5-a"));
    expect(await subackCodes(client, ["devices/v5-b/#", "devices/v5-a/commands/#"], 1)).toEqual([0x87, 1]);
    await client.endAsync();
  });
});

describe("server-side DISCONNECT reasons", () => {
  it("0x98 Administrative action when an operator disables the device", async () => {
    const { client } = await connect(device("v5-admin"));
    const disconnect = disconnectPacket(client);
    expect((await call(server.httpUrl, "POST", "/api/devices/v5-admin/disable", { token: adminToken })).status).toBe(200);
    expect((await disconnect).reasonCode).toBe(0x98);
  });

  it("0x8E Session taken over when the device connects again [MQTT-3.1.4-3]", async () => {
    const { client: first } = await connect(device("v5-taken"));
    const disconnect = disconnectPacket(first);
    await connect(device("v5-taken"));
    expect((await disconnect).reasonCode).toBe(0x8e);
  });
});

describe("topic aliases, client to server [MQTT-3.3.2-8]", () => {
  it("a topic set up with an alias is used by the next PUBLISH with an empty topic; the subscriber sees the topic", async () => {
    const { client: watcher } = await connect(operator());
    await watcher.subscribeAsync("devices/v5-alias/#", { qos: 1 });
    const received: { topic: string; alias: number | undefined }[] = [];
    watcher.on("message", (topic, _payload, packet) => received.push({ topic, alias: packet.properties?.topicAlias }));

    const { client } = await connect(device("v5-alias"));
    await client.publishAsync("devices/v5-alias/telemetry", '{"t":1}', { qos: 1, properties: { topicAlias: 3 } });
    await client.publishAsync("", '{"t":2}', { qos: 1, properties: { topicAlias: 3 } });
    await expect.poll(() => received.length).toBe(2);
    expect(received).toEqual([
      { topic: "devices/v5-alias/telemetry", alias: undefined },
      { topic: "devices/v5-alias/telemetry", alias: undefined },
    ]);
  });

  it("an alias above Topic Alias Maximum: DISCONNECT 0x94 Topic Alias invalid [MQTT-3.3.2-9]", async () => {
    // (MQTT.js itself refuses to send an alias above the server's maximum.)
    const raw = await connectRaw(port(), "v5-alias", {
      clean: true,
      username: "v5-alias",
      password: secrets["v5-alias"]!,
      protocolVersion: 5,
    });
    raw.send({
      cmd: "publish",
      topic: "devices/v5-alias/telemetry",
      payload: Buffer.from('{"t":3}'),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
      properties: { topicAlias: 11 },
    });
    expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x94 });
    await raw.closed;
  });
});

describe("subscription options and identifiers", () => {
  it("no local: an operator's own command is not sent back to it [MQTT-3.8.3-3]", async () => {
    const { client } = await connect(operator());
    await client.subscribeAsync("devices/v5-opts/commands/#", { qos: 1, nl: true });
    const echoes: string[] = [];
    client.on("message", (topic) => echoes.push(topic));
    const { client: other } = await connect(operator());
    await other.subscribeAsync("devices/v5-opts/commands/#", { qos: 1 });
    const seenByOther = new Promise<string>((resolve) => other.once("message", (topic) => resolve(topic)));
    await client.publishAsync("devices/v5-opts/commands/reboot", "{}", { qos: 1 });
    expect(await seenByOther).toBe("devices/v5-opts/commands/reboot");
    expect(echoes).toEqual([]);
  });

  it("retain as published keeps the retain flag; retain handling 2 sends no retained message on subscribe [MQTT-3.3.1-12, MQTT-3.3.1-11]", async () => {
    const { client: dev } = await connect(device("v5-opts"));
    await dev.publishAsync("devices/v5-opts/state", '{"on":true}', { qos: 1, retain: true });

    const { client: none } = await connect(operator());
    const unexpected: string[] = [];
    none.on("message", (topic) => unexpected.push(topic));
    await none.subscribeAsync("devices/v5-opts/state", { qos: 1, rh: 2 });

    const { client: keep } = await connect(operator());
    await keep.subscribeAsync("devices/v5-opts/state", { qos: 1, rap: true, rh: 2 });
    const { client: plain } = await connect(operator());
    await plain.subscribeAsync("devices/v5-opts/state", { qos: 1, rh: 2 });
    const flags = (client: MqttClient) =>
      new Promise<boolean>((resolve) => client.once("message", (_topic, _payload, packet) => resolve(packet.retain)));
    const [kept, plainFlag] = [flags(keep), flags(plain)];
    await dev.publishAsync("devices/v5-opts/state", '{"on":false}', { qos: 1, retain: true });
    expect(await kept).toBe(true);
    expect(await plainFlag).toBe(false);
    // (The live message reaches `none` too; the retained one on subscribe did not.)
    await expect.poll(() => unexpected.length).toBe(1);
  });

  it("a subscription identifier comes back with each message it matched [MQTT-3.3.4-3]", async () => {
    const { client } = await connect(operator());
    await client.subscribeAsync("devices/v5-opts/telemetry", { qos: 1, properties: { subscriptionIdentifier: 42 } });
    const identifier = new Promise<unknown>((resolve) =>
      client.once("message", (_topic, _payload, packet) => resolve(packet.properties?.subscriptionIdentifier)),
    );
    const { client: dev } = await connect(device("v5-opts"));
    await dev.publishAsync("devices/v5-opts/telemetry", '{"t":1}', { qos: 1 });
    expect(await identifier).toBe(42);
  });
});

describe("message expiry interval", () => {
  /** Resolves once a message stored with a 1 s expiry has certainly expired (no assertion on time itself). */
  const pastOneSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100));

  it("a retained message past its expiry is not delivered; a live one comes with its remaining interval [MQTT-3.3.2-5, MQTT-3.3.2-6]", async () => {
    const { client: dev } = await connect(device("v5-exp"));
    // "a/..." sorts before "b/...": retained messages are sent in topic order, so receiving the
    // second proves the first was skipped, not late.
    await dev.publishAsync("devices/v5-exp/a", "short", { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
    await dev.publishAsync("devices/v5-exp/b", "long", { qos: 1, retain: true, properties: { messageExpiryInterval: 100 } });
    await pastOneSecond();
    const { client: late } = await connect(operator());
    const received: { topic: string; expiry: number | undefined }[] = [];
    late.on("message", (topic, _payload, packet) => received.push({ topic, expiry: packet.properties?.messageExpiryInterval }));
    await late.subscribeAsync(["devices/v5-exp/a", "devices/v5-exp/b"], { qos: 1 });
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]!.topic).toBe("devices/v5-exp/b");
    expect(received[0]!.expiry).toBeGreaterThan(0);
    expect(received[0]!.expiry).toBeLessThanOrEqual(100);
  });

  it("a message queued for an offline session past its expiry is not delivered; the next one is, with its remaining interval", async () => {
    const session = { clean: true, properties: { sessionExpiryInterval: 3_600 } };
    const { client: away } = await connect(device("v5-exp", session));
    await away.subscribeAsync("devices/v5-exp/commands/#", { qos: 1 });
    await away.endAsync();
    const { client: sender } = await connect(operator());
    await sender.publishAsync("devices/v5-exp/commands/first", "{}", { qos: 1, properties: { messageExpiryInterval: 1 } });
    await sender.publishAsync("devices/v5-exp/commands/second", "{}", { qos: 1, properties: { messageExpiryInterval: 100 } });
    await pastOneSecond();
    const back = mqtt.connect(server.mqttUrl, device("v5-exp", { clean: false, properties: { sessionExpiryInterval: 3_600 } }));
    clients.push(back);
    const first = new Promise<{ topic: string; expiry: number | undefined }>((resolve) =>
      back.once("message", (topic, _payload, packet) => resolve({ topic, expiry: packet.properties?.messageExpiryInterval })),
    );
    const message = await first;
    expect(message.topic).toBe("devices/v5-exp/commands/second");
    expect(message.expiry).toBeGreaterThan(0);
    expect(message.expiry).toBeLessThanOrEqual(100);
  });
});

describe("the client's Maximum Packet Size", () => {
  it("a message larger than the subscriber's maximum is not sent to it, a smaller one is; a 3.1.1 subscriber gets both [MQTT-3.1.2-24, MQTT-3.1.2-25]", async () => {
    const { client: limited } = await connect(operator({ properties: { maximumPacketSize: 256 } }));
    const { client: unlimited } = await connect(v5({ clientId: "ops_v311", username: "token", password: adminToken, protocolVersion: 4 }));
    const seen: Record<string, string[]> = { limited: [], unlimited: [] };
    for (const [name, client] of [
      ["limited", limited],
      ["unlimited", unlimited],
    ] as const) {
      await client.subscribeAsync("devices/v5-max/telemetry", { qos: 1 });
      client.on("message", (_topic, payload) => seen[name]!.push(payload.length > 100 ? "big" : payload.toString()));
    }
    const { client: dev } = await connect(device("v5-max"));
    await dev.publishAsync("devices/v5-max/telemetry", JSON.stringify({ pad: "x".repeat(400) }), { qos: 1 });
    await dev.publishAsync("devices/v5-max/telemetry", '{"t":1}', { qos: 1 });
    // In order: the small one arriving means the big one was skipped, not late.
    await expect.poll(() => seen.limited!.length).toBe(1);
    expect(seen.limited).toEqual(['{"t":1}']);
    await expect.poll(() => seen.unlimited).toEqual(["big", '{"t":1}']);
  });
});
