// The MQTT 5 reason codes that replace bare closes (issue 12), against the real server and
// PostgreSQL over raw sockets, where MQTT.js would hide the wire: 0x95 Packet too large (CONNACK
// for a CONNECT above MQTT_MAX_CONNECT_BYTES, DISCONNECT for a packet above
// MQTT_MAX_PACKET_BYTES) [MQTT-3.2.2-15], 0x89 Server busy past MQTT_MAX_CONNECTIONS, and 0x81
// Malformed Packet for a SUBSCRIBE or UNSUBSCRIBE filter with U+0000 or a misplaced wildcard
// [MQTT-1.5.4-2, MQTT-4.7.1-1, MQTT-4.7.1-2]. MQTT 3.1.1 clients keep a bare close (or 0x03).
import { execFile, spawnSync } from "node:child_process";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import mqttPacket, { type Packet } from "mqtt-packet";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { connackCodeFrom, connectPacket, rawSocket } from "../../../test/support/mqtt.ts";
import { connectRaw, type RawMqttClient, splitAt } from "../../../test/support/raw-mqtt.ts";

// A fresh machine may lack the Mosquitto clients; .ci/run installs them, so CI runs these.
const hasMosquittoPub = spawnSync("sh", ["-c", "command -v mosquitto_pub"]).status === 0;

const clients: MqttClient[] = [];
const raws: RawMqttClient[] = [];
afterAll(async () => {
  for (const raw of raws) raw.close();
  await Promise.all(clients.map((client) => client.endAsync(true)));
});

const v5 = (options: IClientOptions): IClientOptions => ({ protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...options });

async function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, options);
  clients.push(client);
  return client;
}

/**
 * Writes `chunks` on a fresh socket, one socket write each (a tick apart, so they tend to
 * arrive as separate reads), and resolves with the packets the server sent before it closed
 * the socket, and whatever bytes could not be parsed.
 */
async function untilClosed(url: string, chunks: Buffer[], protocolVersion: 4 | 5): Promise<{ packets: Packet[]; bytes: number }> {
  const socket = await rawSocket(url);
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion });
  const packets: Packet[] = [];
  let bytes = 0;
  parser.on("packet", (packet: Packet) => packets.push(packet));
  socket.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
    parser.parse(chunk);
  });
  socket.on("error", () => undefined);
  const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await gone;
  return { packets, bytes };
}

/** A PUBLISH of `size` bytes on the wire, QoS 1, to `topic`. */
function publishOfSize(topic: string, size: number, messageId: number): Buffer {
  const empty = mqttPacket.generate(
    { cmd: "publish", topic, payload: Buffer.alloc(0), qos: 1, messageId, retain: false, dup: false },
    { protocolVersion: 5 },
  );
  // The Remaining Length field grows with the payload: find the payload that makes `size`.
  for (let payload = Math.max(0, size - empty.length - 3); payload <= size; payload++) {
    const packet = mqttPacket.generate(
      { cmd: "publish", topic, payload: Buffer.alloc(payload, 0x61), qos: 1, messageId, retain: false, dup: false },
      { protocolVersion: 5 },
    );
    if (packet.length === size) return packet;
    if (packet.length > size) break;
  }
  throw new Error(`no PUBLISH of ${size} bytes`);
}

describe("0x95 Packet too large and 0x81 Malformed Packet", () => {
  let server: TestServer;
  let token: string;
  let secret: string;
  let bystander: MqttClient;
  const MAX_PACKET = 2_048;
  const MAX_CONNECT = 512;

  beforeAll(async () => {
    server = await startTestServer({
      MQTT_MAX_PACKET_BYTES: String(MAX_PACKET),
      MQTT_MAX_CONNECT_BYTES: String(MAX_CONNECT),
      MQTT_PUBLISH_RATE: "100000",
      MQTT_PUBLISH_BURST: "100000",
      MQTT_AUTH_FAILURES_PER_MINUTE: "100000",
    });
    token = await apiToken(server.httpUrl);
    secret = (await registerDevice(server.httpUrl, token, { name: "big5", id: "big5" })).credentials.password;
    const bystanderSecret = (await registerDevice(server.httpUrl, token, { name: "calm5", id: "calm5" })).credentials.password;
    bystander = await connectClient(server.mqttUrl, v5({ clientId: "calm5", username: "calm5", password: bystanderSecret }));
    await bystander.subscribeAsync("devices/calm5/echo", { qos: 1 });
  });
  afterAll(() => server?.close());

  const port = () => Number(new URL(server.mqttUrl).port);
  const counters = async () => (await call(server.httpUrl, "GET", "/api/broker/stats", { token })).body.counters as Record<string, number>;

  /** Another client's QoS 1 round trip still works: one client never affects another. */
  async function bystanderStillServed() {
    const echoed = new Promise<void>((resolve) => bystander.once("message", () => resolve()));
    await bystander.publishAsync("devices/calm5/echo", "ok", { qos: 1 });
    await echoed;
  }

  const bigConnect = (protocolVersion: 4 | 5) =>
    mqttPacket.generate(
      {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion,
        clean: true,
        keepalive: 30,
        clientId: "big5",
        username: "big5",
        password: Buffer.from(secret),
        will: { topic: "devices/big5/status", payload: Buffer.alloc(MAX_CONNECT * 2, 0x61), qos: 0, retain: false },
      },
      { protocolVersion },
    );

  it("answers an MQTT 5 CONNECT above MQTT_MAX_CONNECT_BYTES with CONNACK 0x95, then closes [MQTT-3.2.2-7]", async () => {
    const before = (await counters()).packet_too_large ?? 0;
    const { packets } = await untilClosed(server.mqttUrl, [bigConnect(5)], 5);
    expect(packets).toMatchObject([{ cmd: "connack", reasonCode: 0x95 }]);
    expect((await counters()).packet_too_large).toBe(before + 1);
    await bystanderStillServed();
  });

  it("closes an MQTT 3.1.1 CONNECT above MQTT_MAX_CONNECT_BYTES without a CONNACK, which has no such return code [MQTT-3.2.2-6]", async () => {
    const { bytes } = await untilClosed(server.mqttUrl, [bigConnect(4)], 4);
    expect(bytes).toBe(0);
  });

  it("answers an MQTT 5 PUBLISH above MQTT_MAX_PACKET_BYTES with DISCONNECT 0x95 before the close, and counts it [MQTT-3.2.2-15]", async () => {
    const before = (await counters()).packet_too_large ?? 0;
    const raw = await connectRaw(port(), "big5", { clean: true, username: "big5", password: secret, protocolVersion: 5 });
    raws.push(raw);
    raw.sendBytes(publishOfSize("devices/big5/telemetry", MAX_PACKET + 1, 1));
    expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x95 });
    await raw.closed;
    expect((await counters()).packet_too_large).toBe(before + 1);
    await bystanderStillServed();
  });

  it("for any packet sizes and TCP chunks: PUBACKs for packets up to the limit; at the first one above it DISCONNECT 0x95 and the close, nothing after (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 40, max: MAX_PACKET + 600 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (sizes, points) => {
          const raw = await connectRaw(port(), "big5", { clean: true, username: "big5", password: secret, protocolVersion: 5 });
          raws.push(raw);
          const packets = sizes.map((size, i) => publishOfSize("devices/big5/telemetry", size, i + 1));
          for (const chunk of splitAt(Buffer.concat(packets), points)) {
            raw.sendBytes(chunk);
            await new Promise((resolve) => setImmediate(resolve));
          }
          const over = sizes.findIndex((size) => size > MAX_PACKET);
          if (over === -1) {
            for (let i = 0; i < sizes.length; i++) expect(await raw.next("puback")).toMatchObject({ messageId: i + 1 });
            expect(raw.isClosed()).toBe(false);
            raw.close();
            return;
          }
          expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x95 });
          await raw.closed;
          // The PUBACKs that made it before the DISCONNECT are for packets before the oversized one only.
          const acked: number[] = [];
          for (;;) {
            const ack = await raw.next("puback", 50).catch(() => null);
            if (!ack) break;
            acked.push((ack as { messageId: number }).messageId);
          }
          expect(acked.every((id) => id <= over)).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
    await bystanderStillServed();
  }, 120_000);

  describe("topic filters", () => {
    const operator = (protocolVersion: 4 | 5, clean = true) =>
      connectRaw(port(), `ops-${Math.random().toString(36).slice(2)}`, { clean, username: "token", password: token, protocolVersion }).then(
        (raw) => (raws.push(raw), raw),
      );
    const malformed = ["a/#/b", "+x", "a+", "a#", "a/b#", "x+/y", "#/", "", "devices/+/\u0000", "a/\u0000"];

    it.each(malformed.map((filter) => [JSON.stringify(filter), filter]))(
      "SUBSCRIBE %s from an MQTT 5 client: DISCONNECT 0x81 Malformed Packet, no SUBACK [MQTT-4.7.1-1, MQTT-4.7.1-2, MQTT-1.5.4-2]",
      async (_name, filter) => {
        const raw = await operator(5);
        raw.send({
          cmd: "subscribe",
          messageId: 1,
          subscriptions: [
            { topic: "ok/1", qos: 1 },
            { topic: filter, qos: 1 },
          ],
        });
        expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x81 });
        await raw.closed;
        await expect(raw.next("suback", 50)).rejects.toThrow(/no suback/);
      },
    );

    it.each([true, false])(
      "UNSUBSCRIBE with U+0000 or a misplaced wildcard from an MQTT 5 client (clean start: %s): DISCONNECT 0x81, no UNSUBACK",
      async (clean) => {
        for (const filter of ["a/\u0000", "a/#/b", "+x"]) {
          const raw = await operator(5, clean);
          raw.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: [filter] });
          expect(await raw.next("disconnect")).toMatchObject({ reasonCode: 0x81 });
          await raw.closed;
          await expect(raw.next("unsuback", 50)).rejects.toThrow(/no unsuback/);
        }
      },
    );

    it("closes an MQTT 3.1.1 client's malformed SUBSCRIBE and UNSUBSCRIBE without a word, as before", async () => {
      for (const packet of [
        { cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a/#/b", qos: 1 }] },
        { cmd: "unsubscribe", messageId: 2, unsubscriptions: ["+x"] },
      ] as Packet[]) {
        const raw = await operator(4);
        raw.send(packet);
        await raw.closed;
        await expect(raw.next("suback", 50)).rejects.toThrow();
      }
    });

    it("grants well-formed filters with wildcards as whole levels", async () => {
      const raw = await operator(5);
      const filters = ["#", "+", "+/+", "a/+/b", "/#", "a//#", "+/#", "$share/g/+/x", "devices/+/telemetry"];
      raw.send({ cmd: "subscribe", messageId: 3, subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) });
      expect(await raw.next("suback")).toMatchObject({ granted: filters.map(() => 1) });
      raw.close();
    });
  });
});

describe("0x89 Server busy past MQTT_MAX_CONNECTIONS", () => {
  let server: TestServer;
  let token: string;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer({ MQTT_MAX_CONNECTIONS: "2", MQTT_AUTH_FAILURES_PER_MINUTE: "100000" });
    token = await apiToken(server.httpUrl);
    for (const id of ["busy-1", "busy-2", "busy-3"])
      secrets[id] = (await registerDevice(server.httpUrl, token, { name: id, id })).credentials.password;
  });
  afterAll(() => server?.close());

  const device = (id: string, extra: IClientOptions = {}) => ({ clientId: id, username: id, password: secrets[id], ...extra });
  const refusalCode = (options: IClientOptions) =>
    mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5_000, ...options }).then(
      async (client) => {
        await client.endAsync(true);
        return 0;
      },
      (error: { code?: number }) => error.code,
    );

  it("answers a CONNECT beyond the limit with CONNACK 0x89 (MQTT 5) or 0x03 (3.1.1), leaves the connected clients alone, and admits again once one leaves", async () => {
    const first = await connectClient(server.mqttUrl, v5(device("busy-1")));
    const second = await connectClient(server.mqttUrl, { ...device("busy-2"), reconnectPeriod: 0 });
    const before =
      ((await call(server.httpUrl, "GET", "/api/broker/stats", { token })).body.counters.connections_over_limit as number) ?? 0;

    expect(await refusalCode(v5(device("busy-3")))).toBe(0x89);
    expect(await connackCodeFrom(server.mqttUrl, connectPacket({ ...device("busy-3"), password: secrets["busy-3"]!, clean: true }))).toBe(
      3,
    );
    expect((await call(server.httpUrl, "GET", "/api/broker/stats", { token })).body.counters.connections_over_limit).toBe(before + 2);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/fleetwatch_mqtt_connect_refused_total\{[^}]*reason="over_connection_limit"[^}]*\} [1-9]/);

    // The connected ones are untouched.
    for (const client of [first, second]) {
      expect(client.connected).toBe(true);
      await client.publishAsync(`devices/${client.options.clientId}/telemetry`, '{"v":1}', { qos: 1 });
    }
    // A device reconnecting while its old connection is still counted takes it over: the count does not grow.
    const again = await connectClient(server.mqttUrl, v5(device("busy-1")));
    expect(again.connected).toBe(true);

    await second.endAsync();
    let code: number | undefined = -1;
    for (let attempt = 0; attempt < 50 && code !== 0; attempt++) {
      code = await refusalCode(v5(device("busy-3")));
      if (code !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(code).toBe(0);
    await again.endAsync();
  });

  it.skipIf(!hasMosquittoPub)("tells Mosquitto's MQTT 5 client (mosquitto_pub -V mqttv5) that the node is busy", async () => {
    // The previous test's connections may still be closing: a bounded wait for their places.
    const connectWhenRoom = async (id: string): Promise<MqttClient> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await connectClient(server.mqttUrl, v5(device(id)));
        } catch (error) {
          if (attempt >= 50 || (error as { code?: number }).code !== 0x89) throw error;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    };
    const full = [await connectWhenRoom("busy-1"), await connectWhenRoom("busy-2")];
    const { port } = new URL(server.mqttUrl);
    const output = await new Promise<string>((resolve) =>
      execFile(
        "mosquitto_pub",
        [
          "-V",
          "mqttv5",
          "-h",
          "127.0.0.1",
          "-p",
          port,
          "-i",
          "busy-3",
          "-u",
          "busy-3",
          "-P",
          secrets["busy-3"]!,
          "-t",
          "devices/busy-3/telemetry",
          "-m",
          "{}",
        ],
        { timeout: 20_000 },
        (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
      ),
    );
    expect(output).toMatch(/server busy/i);
    await Promise.all(full.map((client) => client.endAsync()));
  });

  it("holds at most a headroom of sockets beyond the limit (MQTT_MAX_CONNECTIONS + 16 here) to answer them; past it a socket is closed unanswered", async () => {
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 18; i++) {
        const socket = await rawSocket(server.mqttUrl);
        socket.on("error", () => undefined);
        held.push(socket);
      }
      const { bytes } = await untilClosed(
        server.mqttUrl,
        [connectPacket({ ...device("busy-3"), password: secrets["busy-3"]!, clean: true })],
        4,
      );
      expect(bytes).toBe(0);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
