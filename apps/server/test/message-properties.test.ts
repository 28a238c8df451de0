// MQTT 5 message properties through the message log: whatever properties a publisher sends
// (any text, any correlation bytes, repeated user properties) are stored by the group-commit
// writer in the batch's one INSERT and read back by the messages API exactly as mapped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import { pino } from "pino";
import { IngestWriter } from "../src/ingest/writer.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";
import { guardCheckedOutClients } from "../src/db/database.ts";
import { messagePropertiesOf, propertyWithNullCharacter, storedProperties, type WirePublishProperties } from "../src/lib/message-properties.ts";
import { MessagesRepository } from "../src/modules/messages/messages.repository.ts";
import { MessagesService } from "../src/modules/messages/messages.service.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";

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
const mqttString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", "NULL", '"', "\\", "{}", ",", "\\\\x00", "'", "é∑😀"),
).map((text) => text.replaceAll("\u0000", ""));

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

  it("names a property holding U+0000, which the gate refuses as a protocol violation [MQTT-1.5.4-2]", () => {
    expect(propertyWithNullCharacter({ contentType: "text/plain" })).toBeUndefined();
    expect(propertyWithNullCharacter({ contentType: "a\u0000b" })).toBe("content type");
    expect(propertyWithNullCharacter({ responseTopic: "r\u0000" })).toBe("response topic");
    expect(propertyWithNullCharacter({ userProperties: { "k\u0000": "v" } })).toBe("user property name");
    expect(propertyWithNullCharacter({ userProperties: { k: ["ok", "v\u0000"] } })).toBe("user property value");
  });

  it("stores any properties through the writer's batch and gives them back exactly through the messages API, next to messages without any (fast-check)", async () => {
    const writer = new IngestWriter(pool, { batchMax: 50, lingerMs: 5, qos0Buffer: 100, commitTimeoutMs: 20_000 }, pino({ level: "silent" }));
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
          const logged = await messages.search({ topic: `devices/${deviceId}/#`, from: new Date(receivedAt.getTime() - 60_000).toISOString() });
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
