// Durable ingest as devices meet it: real MQTT clients publish to a real server, and the
// rows are read back from its PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { deviceConnectOptions, deviceCredentials, registerDevice } from "../../../test/support/devices.ts";
import { connectRaw, qos2Publish } from "../../../test/support/raw-mqtt.ts";
import type { MessageRow } from "../src/modules/messages/messages.repository.ts";

let server: TestServer;
const clients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server.close();
});

async function device(id: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  await registerDevice(server.database.url, id);
  const client = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id, options));
  clients.push(client);
  return client;
}

const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await adminQuery(server.database.url, text, params)).rows as T[];

const messagesOf = (deviceId: string) =>
  sql<MessageRow>(
    "SELECT device_id, topic, payload, qos, retain, received_at FROM messages WHERE device_id = $1 ORDER BY received_at, payload",
    [deviceId],
  );
const readingsOf = (deviceId: string) =>
  sql<{ metric: string; time: Date; value: number }>(
    "SELECT metric, time, value FROM readings WHERE device_id = $1 ORDER BY metric, time",
    [deviceId],
  );

/** Waits until `check` passes (QoS 0 has no ack to wait for); bounded. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe("what is stored", () => {
  it("stores a QoS 1 message before it is acknowledged: the row exists as soon as PUBACK arrives", async () => {
    const client = await device("ack-1");
    await client.publishAsync("devices/ack-1/telemetry", JSON.stringify({ temp: 21.5 }), { qos: 1 });
    const rows = await messagesOf("ack-1");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ device_id: "ack-1", topic: "devices/ack-1/telemetry", qos: 1, retain: false });
    expect(rows[0]!.payload.toString()).toBe('{"temp":21.5}');
    expect(await readingsOf("ack-1")).toEqual([{ metric: "temp", time: rows[0]!.received_at, value: 21.5 }]);
  });

  it("stores a QoS 2 message before PUBREC, once", async () => {
    const client = await device("ack-2");
    await client.publishAsync("devices/ack-2/telemetry", JSON.stringify({ temp: 1 }), { qos: 2 });
    expect((await messagesOf("ack-2")).map((r) => r.qos)).toEqual([2]);
    // The flow completed (PUBREL, PUBCOMP): its exactly-once key is gone.
    expect(await sql("SELECT * FROM ingest_qos2_inflight WHERE client_id = 'ack-2'")).toEqual([]);
  });

  it("stores QoS 0 messages without an ack, with the retain flag", async () => {
    const client = await device("qos0");
    await client.publishAsync("devices/qos0/state", '{"mode":"eco"}', { qos: 0, retain: true });
    await client.publishAsync("devices/qos0/telemetry", '{"temp":3}', { qos: 0 });
    const rows = await eventually(async () => {
      const found = await messagesOf("qos0");
      expect(found).toHaveLength(2);
      return found;
    });
    expect(rows.map((r) => [r.topic, r.qos, r.retain]).sort()).toEqual([
      ["devices/qos0/state", 0, true],
      ["devices/qos0/telemetry", 0, false],
    ]);
    // Only telemetry documents become readings.
    expect(await readingsOf("qos0")).toEqual([expect.objectContaining({ metric: "temp", value: 3 })]);
  });

  it("extracts nested fields as dotted metrics, booleans as 0/1, and takes the time from ts (epoch ms or ISO-8601)", async () => {
    const client = await device("nested");
    await client.publishAsync(
      "devices/nested/telemetry",
      JSON.stringify({ ts: 1_764_000_000_000, env: { temp: 20, air: { co2: 415 } }, on: true, label: "x" }),
      { qos: 1 },
    );
    await client.publishAsync("devices/nested/telemetry", JSON.stringify({ ts: "2025-11-24T12:00:00.250Z", env: { temp: 21 } }), {
      qos: 1,
    });
    expect(await readingsOf("nested")).toEqual(
      [
        { metric: "env.air.co2", time: new Date(1_764_000_000_000), value: 415 },
        { metric: "env.temp", time: new Date("2025-11-24T12:00:00.250Z"), value: 21 },
        { metric: "env.temp", time: new Date(1_764_000_000_000), value: 20 },
        { metric: "on", time: new Date(1_764_000_000_000), value: 1 },
      ].sort((a, b) => a.metric.localeCompare(b.metric) || a.time.getTime() - b.time.getTime()),
    );
  });

  it("stores any subtopic of a device, and nothing outside devices/", async () => {
    const client = await device("subtopics");
    await client.publishAsync("devices/subtopics/logs/boot", "booted", { qos: 1 });
    // Outside its namespace the gate refuses the publish before ingest sees it: the
    // connection is closed without an ack, and nothing is stored.
    const refused = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish("elsewhere/subtopics", "not a device topic", { qos: 1 });
    await refused;
    expect((await messagesOf("subtopics")).map((r) => r.topic)).toEqual(["devices/subtopics/logs/boot"]);
    expect(await sql("SELECT topic FROM messages WHERE topic LIKE 'elsewhere/%'")).toEqual([]);
  });

  it("stores Last Will messages too", async () => {
    await registerDevice(server.database.url, "willful");
    const doomed = await mqtt.connectAsync(
      server.mqttUrl,
      deviceConnectOptions("willful", { will: { topic: "devices/willful/status", payload: Buffer.from("offline"), qos: 1, retain: true } }),
    );
    doomed.stream.destroy();
    const rows = await eventually(async () => {
      const found = await messagesOf("willful");
      expect(found).toHaveLength(1);
      return found;
    });
    expect(rows[0]).toMatchObject({ topic: "devices/willful/status", qos: 1, retain: true });
  });
});

describe("bad payloads never throw: stored raw, without readings, and counted", () => {
  it("keeps non-JSON, non-object, non-numeric and badly timed telemetry as raw messages", async () => {
    const before = server.fleetwatch.ingest.stats().badPayloads;
    const client = await device("garbage");
    const payloads = [
      "not json {",
      "[1,2,3]",
      '"just a string"',
      '{"label":"no numbers"}',
      '{"temp":1,"ts":"yesterday"}',
      Buffer.from([0xff, 0xfe, 0x00]),
    ];
    for (const payload of payloads) await client.publishAsync("devices/garbage/telemetry", payload, { qos: 1 });
    expect(await messagesOf("garbage")).toHaveLength(payloads.length);
    expect(await readingsOf("garbage")).toEqual([]);
    const after = server.fleetwatch.ingest.stats().badPayloads;
    expect(after["not-json"] - before["not-json"]).toBe(2);
    expect(after["not-an-object"] - before["not-an-object"]).toBe(2);
    expect(after["no-numeric-fields"] - before["no-numeric-fields"]).toBe(1);
    expect(after["bad-timestamp"] - before["bad-timestamp"]).toBe(1);
  });

  it("stores extreme numbers, skips overflow, over-long names and nesting past the limit", async () => {
    const client = await device("extreme");
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const document = `{"huge":1e308,"tiny":-1.7976931348623157e308,"overflow":1e999,"${"m".repeat(500)}":1,"deep":${JSON.stringify(deep)},"ok":5e-324}`;
    await client.publishAsync("devices/extreme/telemetry", document, { qos: 1 });
    const readings = await readingsOf("extreme");
    expect(readings.map((r) => [r.metric, r.value])).toEqual([
      ["huge", 1e308],
      ["ok", 5e-324],
      ["tiny", -1.7976931348623157e308],
    ]);
    expect(await messagesOf("extreme")).toHaveLength(1);
  });

  it("keeps serving after all of that", async () => {
    const client = await device("still-fine");
    await client.publishAsync("devices/still-fine/telemetry", '{"x":1}', { qos: 1 });
    expect(await readingsOf("still-fine")).toHaveLength(1);
  });
});

const rawClient = (clientId: string, clean: boolean) =>
  connectRaw(server.fleetwatch.ports.mqtt, clientId, { clean, ...deviceCredentials(clientId) });
const publish = (messageId: number, payload: string, dup: boolean, topic = "devices/raw-q2/telemetry") =>
  qos2Publish(topic, messageId, payload, dup);

describe("QoS 2 exactly once [MQTT-4.3.3-2]", () => {
  it("stores a PUBLISH retransmitted with DUP=1 before PUBREL once", async () => {
    await registerDevice(server.database.url, "raw-q2");
    const raw = await rawClient("raw-q2", false);
    raw.send(publish(7, '{"n":1}', false));
    expect(await raw.next("pubrec")).toMatchObject({ messageId: 7 });
    raw.send(publish(7, '{"n":1}', true));
    expect(await raw.next("pubrec")).toMatchObject({ messageId: 7 });
    raw.send({ cmd: "pubrel", messageId: 7 });
    expect(await raw.next("pubcomp")).toMatchObject({ messageId: 7 });
    expect((await messagesOf("raw-q2")).map((r) => r.payload.toString())).toEqual(['{"n":1}']);
    expect(await readingsOf("raw-q2")).toHaveLength(1);

    // The flow is complete, so packet id 7 may carry a new message [MQTT-2.3.1-2].
    raw.send(publish(7, '{"n":2}', false));
    expect(await raw.next("pubrec")).toMatchObject({ messageId: 7 });
    raw.send({ cmd: "pubrel", messageId: 7 });
    await raw.next("pubcomp");
    expect((await messagesOf("raw-q2")).map((r) => r.payload.toString())).toEqual(['{"n":1}', '{"n":2}']);
    raw.close();
  });

  it("stores a message retransmitted on a new connection of a persistent session once, even with DUP=0 (as mqtt.js resends)", async () => {
    const topic = "devices/raw-q2b/telemetry";
    await registerDevice(server.database.url, "raw-q2b");
    const first = await rawClient("raw-q2b", false);
    first.send(publish(9, '{"n":1}', false, topic));
    await first.next("pubrec");
    first.close(); // the connection drops before PUBREL

    const second = await rawClient("raw-q2b", false);
    second.send(publish(9, '{"n":1}', false, topic));
    await second.next("pubrec");
    second.send({ cmd: "pubrel", messageId: 9 });
    await second.next("pubcomp");
    expect(await messagesOf("raw-q2b")).toHaveLength(1);
    expect(server.fleetwatch.ingest.stats().duplicates).toBeGreaterThanOrEqual(1);
    second.close();
  });

  it("treats a reused packet id with other content as a new message when the old flow never completed", async () => {
    const topic = "devices/raw-q2c/telemetry";
    await registerDevice(server.database.url, "raw-q2c");
    const first = await rawClient("raw-q2c", false);
    first.send(publish(3, '{"n":1}', false, topic));
    await first.next("pubrec");
    first.close(); // and the client abandons that flow
    const second = await rawClient("raw-q2c", false);
    second.send(publish(3, '{"n":2}', false, topic));
    await second.next("pubrec");
    expect((await messagesOf("raw-q2c")).map((r) => r.payload.toString())).toEqual(['{"n":1}', '{"n":2}']);
    second.close();
  });

  it("discards a client's QoS 2 keys when it starts a clean session [MQTT-3.1.2-6]", async () => {
    const topic = "devices/raw-q2d/telemetry";
    await registerDevice(server.database.url, "raw-q2d");
    const first = await rawClient("raw-q2d", false);
    first.send(publish(4, '{"n":1}', false, topic));
    await first.next("pubrec");
    first.close();
    expect(await sql("SELECT packet_id FROM ingest_qos2_inflight WHERE client_id = 'raw-q2d'")).toEqual([{ packet_id: 4 }]);
    const clean = await rawClient("raw-q2d", true);
    await eventually(async () => expect(await sql("SELECT packet_id FROM ingest_qos2_inflight WHERE client_id = 'raw-q2d'")).toEqual([]));
    clean.close();
  });
});

describe("group commit", () => {
  it("commits many clients' concurrent messages, each acknowledged only once stored", async () => {
    const devices = await Promise.all(Array.from({ length: 10 }, (_, i) => device(`burst-${i}`)));
    await Promise.all(
      devices.flatMap((client, i) =>
        Array.from({ length: 30 }, (_, n) => client.publishAsync(`devices/burst-${i}/telemetry`, JSON.stringify({ n }), { qos: 1 })),
      ),
    );
    const [row] = await sql<{ count: string }>("SELECT count(*) FROM messages WHERE device_id LIKE 'burst-%'");
    expect(Number(row?.count)).toBe(300);
  });
});
