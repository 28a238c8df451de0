// MQTT 5 message properties through our layers: whatever properties a publisher sends (any
// text, any correlation bytes, repeated user properties) are stored by the group-commit writer
// in the batch's one INSERT and read back by the messages API exactly as mapped; end to end, a
// v5 publisher's properties reach v5 subscribers, the log and the live channel, a 3.1.1
// subscriber still gets the message, and commands to a v5 device carry request/response.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import { pino } from "pino";
import { IngestWriter } from "../src/ingest/writer.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";
import { guardCheckedOutClients } from "../src/db/database.ts";
import { messagePropertiesOf, storedProperties, type WirePublishProperties } from "../src/lib/message-properties.ts";
import { MessagesRepository } from "../src/modules/messages/messages.repository.ts";
import { MessagesService } from "../src/modules/messages/messages.service.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from "mqtt";
import type { Command, LoggedMessage } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { openLive, type LiveTestClient } from "../../../test/support/live.ts";
import { waitFor } from "../../../test/support/wait.ts";

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
  pool.on("error", () => undefined);
  guardCheckedOutClients(pool);
  await maintainPartitions(pool, 30);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** MQTT strings as mqtt-packet decodes them: any UTF-8 text but U+0000 [MQTT-1.5.4-2], including the characters that need escaping in SQL array and JSON literals. */
const mqttString = fc
  .oneof(fc.string({ unit: "grapheme", maxLength: 20 }), fc.constantFrom("", "NULL", '"', "\\", "{}", ",", "\\\\x00", "'", "é∑😀"))
  .map((text) => text.replaceAll("\u0000", ""));

const wireProperties: fc.Arbitrary<WirePublishProperties> = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
    topicAlias: fc.integer({ min: 1, max: 10 }),
    responseTopic: mqttString,
    correlationData: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    userProperties: fc.dictionary(mqttString, fc.oneof(mqttString, fc.array(mqttString, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }),
    subscriptionIdentifier: fc.integer({ min: 1, max: 1000 }),
    contentType: mqttString,
  },
  { requiredKeys: [] },
);

describe("MQTT 5 message properties in the message log", () => {
  it("keeps what a message is (format, content type, response topic, correlation data as base64, expiry, user properties in order) and drops per-hop properties [MQTT-3.3.2-17, MQTT-3.3.2-18]", () => {
    expect(messagePropertiesOf(undefined)).toBeUndefined();
    expect(messagePropertiesOf({ topicAlias: 3, subscriptionIdentifier: 7 })).toBeUndefined();
    expect(
      messagePropertiesOf({
        payloadFormatIndicator: true,
        contentType: "application/json",
        responseTopic: "devices/d1/replies",
        correlationData: Buffer.from([0, 1, 2, 0xff]),
        messageExpiryInterval: 60,
        userProperties: { site: ["north", "south"], line: "3" },
      }),
    ).toEqual({
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "devices/d1/replies",
      correlationData: "AAEC/w==",
      messageExpiryInterval: 60,
      userProperties: [
        { name: "site", value: "north" },
        { name: "site", value: "south" },
        { name: "line", value: "3" },
      ],
    });
  });

  it("stores any properties through the writer's batch and gives them back exactly through the messages API, next to messages without any (fast-check)", async () => {
    const writer = new IngestWriter(
      pool,
      { batchMax: 50, lingerMs: 5, qos0Buffer: 100, commitTimeoutMs: 20_000 },
      pino({ level: "silent" }),
    );
    const messages = new MessagesService(new MessagesRepository(pool));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.option(wireProperties, { nil: undefined }), { minLength: 1, maxLength: 6 }), async (batch) => {
          const deviceId = `props-${run++}`;
          const receivedAt = new Date();
          // One batch: the writer gathers concurrent writes into one INSERT.
          await Promise.all(
            batch.map((wire, i) =>
              writer.write({
                receivedAt: new Date(receivedAt.getTime() - i),
                deviceId,
                topic: `devices/${deviceId}/m${i}`,
                payload: Buffer.from(String(i)),
                qos: 1,
                retain: false,
                properties: storedProperties(messagePropertiesOf(wire)),
                readings: [],
              }),
            ),
          );
          const logged = await messages.search({
            topic: `devices/${deviceId}/#`,
            from: new Date(receivedAt.getTime() - 60_000).toISOString(),
          });
          const byTopic = new Map(logged.map((message) => [message.topic, message.properties]));
          expect(byTopic.size).toBe(batch.length);
          batch.forEach((wire, i) => expect(byTopic.get(`devices/${deviceId}/m${i}`)).toEqual(messagePropertiesOf(wire)));
        }),
        { numRuns: 40 },
      );
    } finally {
      await writer.close();
    }
  });
});

describe("MQTT 5 properties end to end, through a real server", () => {
  let server: TestServer;
  let token: string;
  const clients: MqttClient[] = [];
  const sockets: LiveTestClient[] = [];
  const connect = async (options: IClientOptions) => {
    const client = await mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    clients.push(client);
    return client;
  };
  const device = async (id: string) => {
    const { credentials } = await registerDevice(server.httpUrl, token, { name: id, id });
    return connect({ clientId: id, username: id, password: credentials.password, protocolVersion: 5 });
  };

  beforeAll(async () => {
    server = await startTestServer();
    token = await apiToken(server.httpUrl);
  });
  afterAll(async () => {
    for (const live of sockets) live.socket.terminate();
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await server?.close();
  });

  it("forwards a v5 publisher's properties to a v5 subscriber, still delivers the message to a 3.1.1 subscriber, and shows them in the message log and the live channel [MQTT-3.3.2-15, MQTT-3.3.2-17, MQTT-3.3.2-18]", async () => {
    const v5 = await connect({ clientId: "operator:props-v5", username: "token", password: token, protocolVersion: 5 });
    const v311 = await connect({ clientId: "operator:props-v4", username: "token", password: token, protocolVersion: 4 });
    const atV5 = new Promise<IPublishPacket>((resolve) => v5.once("message", (_topic, _payload, packet) => resolve(packet)));
    const atV311 = new Promise<string>((resolve) => v311.once("message", (_topic, payload) => resolve(payload.toString())));
    await v5.subscribeAsync("devices/props-dev/#", { qos: 1 });
    await v311.subscribeAsync("devices/props-dev/#", { qos: 1 });
    const live = await openLive(server.httpUrl, { authorization: `Bearer ${token}` });
    sockets.push(live);
    live.send({ type: "subscribe", id: "p", filter: "devices/props-dev/#" });
    await live.next((frame) => frame.type === "subscribed", "the live subscription");

    const publisher = await device("props-dev");
    await publisher.publishAsync("devices/props-dev/telemetry", '{"temperature":20}', {
      qos: 1,
      properties: {
        payloadFormatIndicator: true,
        contentType: "application/json",
        responseTopic: "devices/props-dev/replies",
        correlationData: Buffer.from([0, 1, 0xfe, 0xff]),
        messageExpiryInterval: 3600,
        userProperties: { site: ["north", "south"], line: "3" },
      },
    });

    const forwarded = await atV5;
    expect(forwarded.properties).toMatchObject({
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "devices/props-dev/replies",
      correlationData: Buffer.from([0, 1, 0xfe, 0xff]),
      userProperties: { site: ["north", "south"], line: "3" },
    });
    // The remaining interval, never more than the publisher's [MQTT-3.3.2-6].
    expect(forwarded.properties?.messageExpiryInterval).toBeGreaterThan(0);
    expect(forwarded.properties?.messageExpiryInterval).toBeLessThanOrEqual(3600);
    expect(await atV311).toBe('{"temperature":20}');

    const expected = {
      payloadFormatIndicator: true,
      contentType: "application/json",
      responseTopic: "devices/props-dev/replies",
      correlationData: "AAH+/w==",
      messageExpiryInterval: 3600,
      userProperties: [
        { name: "site", value: "north" },
        { name: "site", value: "south" },
        { name: "line", value: "3" },
      ],
    };
    const logged = await waitFor(async () => {
      const reply = await call<{ messages: LoggedMessage[] }>(server.httpUrl, "GET", "/api/messages?topic=devices/props-dev/%23", {
        token,
      });
      return reply.body.messages[0];
    }, "the logged message");
    expect(logged.properties).toEqual(expected);
    const frame = await live.next(
      (frame) => frame.type === "batch" && frame.messages.some((message) => message.topic === "devices/props-dev/telemetry"),
      "the live message",
    );
    expect(frame.type === "batch" && frame.messages[0]?.properties).toMatchObject({
      ...expected,
      messageExpiryInterval: expect.any(Number),
    });
  });

  it("sends a command to a v5 device with a Response Topic and the command id as Correlation Data, and takes the device's standard MQTT 5 answer [MQTT-4.10]", async () => {
    const valve = await device("props-valve");
    const commands = new Promise<IPublishPacket>((resolve) => valve.once("message", (_topic, _payload, packet) => resolve(packet)));
    await valve.subscribeAsync("devices/props-valve/commands/+", { qos: 1 });
    await waitFor(async () => (await call(server.httpUrl, "GET", "/api/devices/props-valve", { token })).body.online === true, "online");
    const sent = await call<{ id: string }>(server.httpUrl, "POST", "/api/devices/props-valve/commands", {
      token,
      body: { name: "open", params: { percent: 40 } },
    });
    expect(sent.status).toBe(202);

    const command = await commands;
    expect(command.topic).toBe(`devices/props-valve/commands/${sent.body.id}`);
    expect(command.properties?.responseTopic).toBe(`devices/props-valve/commands/${sent.body.id}/response`);
    expect(command.properties?.correlationData?.toString("utf8")).toBe(sent.body.id);
    expect(command.properties?.contentType).toBe("application/json");

    // What any MQTT 5 request/response client does: answer on the Response Topic, echoing the Correlation Data.
    await valve.publishAsync(command.properties!.responseTopic!, '{"ok":true}', {
      qos: 1,
      properties: { correlationData: command.properties!.correlationData! },
    });
    const answered = await waitFor(async () => {
      const reply = await call<Command>(server.httpUrl, "GET", `/api/devices/props-valve/commands/${sent.body.id}`, { token });
      return reply.body.status === "responded" ? reply.body : undefined;
    }, "the command answered");
    expect(answered).toMatchObject({ status: "responded" });
  });
});
