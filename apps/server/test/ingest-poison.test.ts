// One device's message must never stop the fleet. PostgreSQL rejects U+0000 in text and
// jsonb; before, one such publish (a JSON key, a topic) was retried at the head of the ingest
// queue forever, and no device got another acknowledgement until a restart. Now:
// - U+0000 in an MQTT string (topic, will topic, filter, client id) is a protocol violation
//   [MQTT-1.5.3-2]: refused at the gate, with the reason logged, before anything reaches SQL;
// - a telemetry key that cannot be a metric name is skipped (the raw message is kept) and counted;
// - any row the database still rejects costs only its sender: the batch is split, the rest
//   commits, a QoS 1/2 offender is refused (connection closed with a reason), a QoS 0 one dropped
//   and counted.
// Everything runs against the test PostgreSQL and against an embedded PostgreSQL (the
// product's zero-configuration default), as the issue asks.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import fc from "fast-check";
import { pino } from "pino";
import { migrateDatabase } from "@fleetwatch/prisma";
import { loadConfig } from "../src/config.ts";
import { startFleetwatch, type Fleetwatch } from "../src/server.ts";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { deviceConnectOptions, deviceCredentials, registerDevice } from "../../../test/support/devices.ts";
import { connectRaw, publishBytes, type RawMqttClient } from "../../../test/support/raw-mqtt.ts";
import { rawSocket } from "../../../test/support/mqtt.ts";
import { captureLogs, type CapturedLogs } from "../../../test/support/logs.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import { waitFor } from "../../../test/support/wait.ts";
import mqttPacket from "mqtt-packet";
import { testAdmin } from "../../../test/support/fleetwatch.ts";

/** A PostgreSQL of its own, as the product starts by default (DATA_DIR without DATABASE_URL). */
async function embeddedDatabase(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-poison-pg-"));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres user and must enter it.
  await chmod(dataDir, 0o755);
  const embedded = await startEmbeddedPostgres(dataDir, pino({ level: "warn" }), "postgres");
  await migrateDatabase(embedded.url);
  return {
    url: embedded.url,
    name: "postgres",
    drop: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// The suite's own server (TEST_DATABASE_URL) when one is set, and the embedded one; without
// TEST_DATABASE_URL the suite's server already is an embedded PostgreSQL.
const targets: { name: string; open: () => Promise<TestDatabase> }[] = [
  {
    name: process.env.TEST_DATABASE_URL ? "the PostgreSQL server of TEST_DATABASE_URL" : "the suite's embedded PostgreSQL",
    open: () => createTestDatabase(),
  },
  ...(process.env.TEST_DATABASE_URL ? [{ name: "an embedded PostgreSQL 17", open: embeddedDatabase }] : []),
];

const NUL = "\u0000";

describe.each(targets)("against $name", ({ open }) => {
  let database: TestDatabase;
  let fleetwatch: Fleetwatch;
  let logs: CapturedLogs;
  let mqttUrl: string;
  let token: string;
  const clients: MqttClient[] = [];
  const raws: RawMqttClient[] = [];
  let good: MqttClient;
  let goodSeq = 0;

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await adminQuery(database.url, text, params)).rows as T[];

  async function device(id: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const client = await mqtt.connectAsync(mqttUrl, deviceConnectOptions(id, options));
    clients.push(client);
    return client;
  }

  async function raw(id: string): Promise<RawMqttClient> {
    const client = await connectRaw(fleetwatch.ports.mqtt, id, { clean: true, ...deviceCredentials(id) });
    raws.push(client);
    return client;
  }

  /** Another device's QoS 1 publish is acknowledged (so stored), and so was everything queued before it. */
  async function goodStillAcknowledged(): Promise<void> {
    expect(good.connected).toBe(true);
    await good.publishAsync("devices/good-1/telemetry", JSON.stringify({ seq: ++goodSeq }), { qos: 1 });
  }

  /**
   * A client's packets are handled in order, and the writer settles in arrival order: once a
   * QoS 1 publish sent after them is acknowledged, the client's earlier messages are settled.
   */
  async function settled(client: MqttClient, id: string): Promise<void> {
    await client.publishAsync(`devices/${id}/settled`, "", { qos: 1 });
  }

  beforeAll(async () => {
    database = await open();
    logs = captureLogs();
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      MQTT_PORT: "0",
      DATABASE_URL: database.url,
      ADMIN_EMAIL: testAdmin.email,
      ADMIN_PASSWORD: testAdmin.password,
      MQTT_PUBLISH_RATE: "100000",
      MQTT_PUBLISH_BURST: "100000",
    });
    fleetwatch = await startFleetwatch(config, logs.logger);
    mqttUrl = `mqtt://127.0.0.1:${fleetwatch.ports.mqtt}`;
    token = await apiToken(`http://127.0.0.1:${fleetwatch.ports.http}`);
    for (const id of ["evil-1", "good-1", "prop-evil", "willer"]) await registerDevice(database.url, id);
    good = await device("good-1");
  });
  afterAll(async () => {
    for (const client of raws) client.close();
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await fleetwatch?.close();
    await database?.drop();
  });

  describe("U+0000 in a telemetry key: the message is stored as sent, the reading that cannot be a metric name is skipped and counted", () => {
    it.each([0, 1, 2] as const)("at QoS %i, and another device is still acknowledged", async (qos) => {
      const before = fleetwatch.ingest.stats();
      const evil = await device("evil-1");
      const payload = JSON.stringify({ [`a${NUL}b`]: 1, kept: qos });
      await evil.publishAsync("devices/evil-1/telemetry", payload, { qos });
      await settled(evil, "evil-1");
      await goodStillAcknowledged();

      const rows = await sql<{ payload: Buffer }>("SELECT payload FROM messages WHERE topic = 'devices/evil-1/telemetry' AND qos = $1", [
        qos,
      ]);
      expect(rows.map((row) => row.payload.toString())).toEqual([payload]);
      expect(await sql("SELECT metric, value FROM readings WHERE device_id = 'evil-1' AND value = $1", [qos])).toEqual([
        { metric: "kept", value: qos },
      ]);
      expect(fleetwatch.ingest.stats().unstorableMetricNames - before.unstorableMetricNames).toBe(1);
      await evil.endAsync();
    });

    it("counts a document whose every numeric key is unstorable as such, and keeps a payload of raw U+0000 bytes as sent", async () => {
      const before = fleetwatch.ingest.stats().badPayloads["unstorable-metric-names"];
      const evil = await device("evil-1");
      await evil.publishAsync("devices/evil-1/telemetry", JSON.stringify({ [NUL]: 1, [`\ud800`]: 2 }), { qos: 1 });
      await evil.publishAsync("devices/evil-1/raw", Buffer.from([0x61, 0x00, 0x62, 0x00]), { qos: 1 });
      await goodStillAcknowledged();
      expect(fleetwatch.ingest.stats().badPayloads["unstorable-metric-names"] - before).toBe(1);
      expect((await sql<{ payload: Buffer }>("SELECT payload FROM messages WHERE topic = 'devices/evil-1/raw'"))[0]?.payload).toEqual(
        Buffer.from([0x61, 0x00, 0x62, 0x00]),
      );
      await evil.endAsync();
    });

    it("stores a Last Will whose telemetry has a U+0000 key, and acknowledges the next device", async () => {
      const payload = JSON.stringify({ [`gone${NUL}`]: 1, lastWill: 1 });
      const doomed = await device("willer", {
        will: { topic: "devices/willer/telemetry", payload: Buffer.from(payload), qos: 1, retain: false },
      });
      doomed.stream.destroy();
      await logs.next("client disconnected", undefined, 100).catch(() => undefined);
      await waitFor(async () => (await sql("SELECT 1 FROM messages WHERE device_id = 'willer'")).length === 1, "the will to be stored");
      await goodStillAcknowledged();
      expect(await sql("SELECT metric FROM readings WHERE device_id = 'willer'")).toEqual([{ metric: "lastWill" }]);
    });
  });

  describe("U+0000 in an MQTT string is a protocol violation [MQTT-1.5.3-2]: refused at the gate with the reason logged, nothing reaches the database", () => {
    it.each([0, 1, 2] as const)(
      "in a topic name at QoS %i: the connection is closed, and another device is still acknowledged",
      async (qos) => {
        const evil = await raw("evil-1");
        const topic = Buffer.from(`devices/evil-1/a${NUL}b`);
        evil.sendBytes(publishBytes({ topic, payload: Buffer.from('{"v":1}'), qos, messageId: 7 }));
        await evil.closed;
        await logs.next("U+0000 in the topic name", (line) => line.clientId === "evil-1");
        await goodStillAcknowledged();
        expect(await sql("SELECT 1 FROM messages WHERE topic LIKE $1", [`devices/evil-1/a%`])).toEqual([]);
      },
    );

    it("in a SUBSCRIBE filter (an operator's, a device's, or one of several): closed before any retained-message query or stored subscription", async () => {
      for (const [clientId, credentials, filters] of [
        ["operator:nul", { username: "token", password: token }, [`devices/+/${NUL}`]],
        ["evil-1", deviceCredentials("evil-1"), [`devices/evil-1/${NUL}/#`]],
        ["evil-1", deviceCredentials("evil-1"), ["devices/evil-1/fine", `devices/evil-1/x${NUL}`]],
      ] as const) {
        const client = await connectRaw(fleetwatch.ports.mqtt, clientId, { clean: false, ...credentials });
        raws.push(client);
        client.send({ cmd: "subscribe", messageId: 3, subscriptions: filters.map((topic) => ({ topic, qos: 1 })) });
        await client.closed;
        await logs.next("U+0000 in a SUBSCRIBE topic filter", (line) => line.clientId === clientId);
      }
      await goodStillAcknowledged();
      expect(logs.matching("retained message storage failed")).toEqual([]);
      expect(logs.matching("client error")).toEqual([]);
      expect(await sql("SELECT topic FROM mqtt_subscriptions WHERE client_id IN ('operator:nul', 'evil-1')")).toEqual([]);
    });

    it.each([true, false])("in an UNSUBSCRIBE filter (clean session: %s): the connection is closed", async (clean) => {
      const client = await connectRaw(fleetwatch.ports.mqtt, "evil-1", { clean, ...deviceCredentials("evil-1") });
      raws.push(client);
      client.send({ cmd: "unsubscribe", messageId: 4, unsubscriptions: [`devices/evil-1/${NUL}`] });
      await client.closed;
      await logs.next("U+0000 in a UNSUBSCRIBE topic filter", (line) => line.clientId === "evil-1");
      expect(logs.matching("client error").map((l) => JSON.stringify(l))).toEqual([]);
    });

    it.each([
      ["will topic", { will: { topic: `devices/evil-1/${NUL}`, payload: Buffer.from("x"), qos: 0 as const, retain: false } }],
      ["client id", { clientId: `evil-1${NUL}` }],
      ["user name", { username: `evil-1${NUL}` }],
    ])("in the CONNECT's %s: the connection is closed without a CONNACK", async (field, change) => {
      const socket = await rawSocket(mqttUrl);
      socket.on("error", () => undefined);
      const received: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      const closedByServer = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      const { username, password } = deviceCredentials("evil-1");
      socket.write(
        mqttPacket.generate({
          cmd: "connect",
          protocolId: "MQTT",
          protocolVersion: 4,
          clean: true,
          keepalive: 30,
          clientId: "evil-1",
          username,
          password: Buffer.from(password),
          ...change,
        }),
      );
      await closedByServer;
      expect(Buffer.concat(received)).toEqual(Buffer.alloc(0));
      await logs.next(`U+0000 in the CONNECT's ${field}`);
      await goodStillAcknowledged();
    });
  });

  describe("a row the database rejects for any other reason costs only its sender", () => {
    beforeAll(() => sql("ALTER TABLE messages ADD CONSTRAINT poison_for_test CHECK (payload <> '\\x706f69736f6e'::bytea)"));
    afterAll(() => sql("ALTER TABLE messages DROP CONSTRAINT poison_for_test"));

    it("at QoS 0: dropped, counted by SQLSTATE and logged; the sender stays connected", async () => {
      const before = fleetwatch.ingest.stats().rejected["23514"] ?? 0;
      const evil = await device("evil-1");
      await evil.publishAsync("devices/evil-1/check", "poison", { qos: 0 });
      await settled(evil, "evil-1");
      await goodStillAcknowledged();
      expect((fleetwatch.ingest.stats().rejected["23514"] ?? 0) - before).toBe(1);
      await logs.next("dropped a message the database refused", (line) => line.deviceId === "evil-1" && line.code === "23514");
      expect(evil.connected).toBe(true);
      // Operators see the count too.
      const stats = await call(`http://127.0.0.1:${fleetwatch.ports.http}`, "GET", "/api/broker/stats", { token });
      expect(stats.body.counters.ingest_rejected_23514).toBe(before + 1);
      await evil.endAsync();
    });

    it.each([1, 2] as const)(
      "at QoS %i: refused, its connection closed with the reason and the MQTT 5 reason code it would carry",
      async (qos) => {
        const evil = await device("evil-1");
        const refused = new Promise<void>((resolve) => evil.once("close", () => resolve()));
        evil.publish("devices/evil-1/check", "poison", { qos });
        await refused;
        await logs.next(
          "MQTT PUBLISH refused, closing the connection: the database refused the message (23514)",
          (line) => line.clientId === "evil-1" && line.qos === qos && line.reasonCode === 0x83,
        );
        await goodStillAcknowledged();
        await evil.endAsync(true);
      },
    );

    it("in a batch with other devices' messages: those are stored and acknowledged", async () => {
      const others = await Promise.all(
        ["good-2", "good-3", "good-4"].map(async (id) => (await registerDevice(database.url, id), device(id))),
      );
      const evil = await device("evil-1");
      const refused = new Promise<void>((resolve) => evil.once("close", () => resolve()));
      evil.publish("devices/evil-1/check", "poison", { qos: 1 });
      await Promise.all(others.map((client, i) => client.publishAsync(`devices/good-${i + 2}/telemetry`, `{"n":${i}}`, { qos: 1 })));
      await refused;
      expect((await sql("SELECT device_id FROM messages WHERE device_id IN ('good-2', 'good-3', 'good-4')")).length).toBe(3);
      await goodStillAcknowledged();
      await evil.endAsync(true);
    });
  });

  describe("property: whatever one device sends, each message is stored or refused, and another device is acknowledged afterwards", () => {
    /** JSON text with keys and values of any kind: U+0000, lone surrogates, huge and tiny numbers, nesting. */
    const jsonText = fc.letrec<{ value: string; object: string }>((tie) => ({
      value: fc.oneof(
        fc.double().map((n) => (Number.isFinite(n) ? JSON.stringify(n) : "1e999")),
        fc.bigInt({ min: -(10n ** 400n), max: 10n ** 400n }).map(String),
        fc.constantFrom("1e400", "-1e400", "5e-324", "1e-400", "true", "false", "null", "[1,2]"),
        fc.string({ unit: "binary", maxLength: 20 }).map((text) => JSON.stringify(text)),
        tie("object"),
      ),
      object: fc
        .array(fc.tuple(fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.constantFrom("ts", `${NUL}`, "\ud800")), tie("value")), {
          maxLength: 6,
        })
        .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`),
    })).object;
    const message = fc.record({
      // A topic of any bytes (ill-formed UTF-8 and U+0000 included), mostly under the device's own namespace.
      topic: fc.oneof(
        fc.constant(Buffer.from("devices/prop-evil/telemetry")),
        fc.string({ unit: "binary", maxLength: 30 }).map((level) => Buffer.from(`devices/prop-evil/${level}`)),
        fc.uint8Array({ maxLength: 30 }).map((bytes) => Buffer.concat([Buffer.from("devices/prop-evil/"), bytes])),
        fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
      ),
      payload: fc.oneof(
        jsonText.map((text) => Buffer.from(text)),
        fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      ),
      qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
      retain: fc.boolean(),
    });

    let evil: RawMqttClient | undefined;
    let messageId = 0;

    it("holds for arbitrary topics, payloads, JSON keys and values", { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(message, async ({ topic, payload, qos, retain }) => {
          if (!evil || evil.isClosed()) evil = await raw("prop-evil");
          const client = evil;
          const sentAt = new Date();
          const before = fleetwatch.ingest.stats();
          messageId = (messageId % 65_000) + 1;
          client.sendBytes(publishBytes({ topic, payload, qos, messageId, retain }));
          // The publish has been handled (stored, queued or refused) once the client's next
          // packet is answered: a PUBACK/PUBREC for QoS 1/2, a PINGRESP after a QoS 0 message.
          if (qos === 0) client.send({ cmd: "pingreq" });
          const answer = qos === 0 ? "pingresp" : qos === 1 ? "puback" : "pubrec";
          const answered = await Promise.race([client.next(answer, 20_000).then(() => true), client.closed.then(() => false)]);
          if (answered && qos === 2) {
            client.send({ cmd: "pubrel", messageId });
            await Promise.race([client.next("pubcomp", 20_000), client.closed]);
          }
          await goodStillAcknowledged();

          // The topic as the server decodes it; PostgreSQL's text cannot even hold one with U+0000.
          const text = topic.toString("utf8");
          const rows = text.includes(NUL)
            ? []
            : await sql("SELECT 1 FROM messages WHERE device_id = 'prop-evil' AND topic = $1 AND payload = $2 AND received_at >= $3", [
                text,
                payload,
                sentAt,
              ]);
          // Refused: the connection was closed, and nothing was stored.
          if (client.isClosed()) {
            expect(rows).toEqual([]);
            return;
          }
          // Accepted: stored (for QoS 0, possibly dropped by the database and counted instead).
          const after = fleetwatch.ingest.stats();
          const dropped =
            Object.values(after.rejected).reduce((a, b) => a + b, 0) - Object.values(before.rejected).reduce((a, b) => a + b, 0);
          if (qos === 0 && dropped > 0) return;
          expect(rows).toHaveLength(1);
        }),
        { numRuns: 120 },
      );
      expect(logs.matching("database writes failing")).toEqual([]);
    });
  });
});
