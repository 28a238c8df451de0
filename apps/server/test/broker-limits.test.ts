// Broker limits with real clients: oversized packets are cut off before they are buffered
// (TCP and WebSocket), sockets that never send CONNECT are closed, topics, publish rates and
// connection counts are bounded; past a limit only the offending client goes, with a counter.
// MQTT 3.1.1 closes such a connection without a reason on the wire: each test asserts the
// reason the server logs for that close.
import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IClientOptions, MqttClient } from "mqtt";
import { WebSocket } from "ws";
import { spawnServer, startTestServer, testAdmin, type ServerProcess, type TestServer } from "../../../test/support/fleetwatch.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { findFreePort } from "../../../test/support/network.ts";
import { captureLogs, type CapturedLogs, type LogLine } from "../../../test/support/logs.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import {
  closed,
  connackCode,
  connackCodeFrom,
  connectClient,
  connectPacket,
  rawConnack,
  rawSocket,
  remainingLength,
  subackCodes,
} from "../../../test/support/mqtt.ts";

const clients: MqttClient[] = [];
afterAll(() => Promise.all(clients.map((c) => c.endAsync(true))));

const socketClosed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));

/**
 * The reason a refusal was logged for: resolves with the first line logged after `mark()`
 * that contains `text` and passes `also`.
 */
function logWatch(logs: CapturedLogs) {
  let from = 0;
  return {
    mark: () => void (from = logs.lines.length),
    next: (text: string, also: (line: LogLine) => boolean = () => true) =>
      waitFor(() => logs.lines.slice(from).find((line) => String(line.msg).includes(text) && also(line)), `a log line "${text}"`),
  };
}

describe("per-client limits", () => {
  let server: TestServer;
  let token: string;
  const devices: Record<string, IClientOptions> = {};
  const logs = captureLogs();
  const logged = logWatch(logs);

  beforeAll(async () => {
    server = await startTestServer(
      {
        MQTT_MAX_PACKET_BYTES: "1024",
        MQTT_CONNECT_TIMEOUT_MS: "300",
        MQTT_MAX_TOPIC_LENGTH: "64",
        MQTT_MAX_TOPIC_LEVELS: "8",
        MQTT_PUBLISH_RATE: "5",
        MQTT_PUBLISH_BURST: "10",
      },
      { logger: logs.logger },
    );
    token = await apiToken(server.httpUrl);
    for (const id of ["big", "bystander", "chatty", "deep"])
      devices[id] = { ...(await registerDevice(server.httpUrl, token, { name: id, id })).credentials };
  });
  afterAll(() => server?.close());

  const counters = async () => (await call(server.httpUrl, "GET", "/api/broker/stats", { token })).body.counters as Record<string, number>;

  /** The bystander's QoS 1 round trip still works: the broker serves everyone else. */
  async function bystanderStillServed() {
    const bystander = await connectClient(server.mqttUrl, devices.bystander!, clients);
    await bystander.subscribeAsync("devices/bystander/echo", { qos: 1 });
    const echoed = new Promise<void>((resolve) => bystander.once("message", () => resolve()));
    await bystander.publishAsync("devices/bystander/echo", "ok", { qos: 1 });
    await echoed;
    await bystander.endAsync();
  }

  it("closes a TCP connection whose packet exceeds MQTT_MAX_PACKET_BYTES, and counts it", async () => {
    const big = await connectClient(server.mqttUrl, devices.big!, clients);
    const bigClosed = closed(big);
    logged.mark();
    big.publish("devices/big/telemetry", Buffer.alloc(2_000, 0x41), { qos: 0 });
    await bigClosed;
    expect((await logged.next("MQTT connection closed")).msg).toMatch(/exceeds the 1024-byte limit \(MQTT_MAX_PACKET_BYTES\)$/);
    expect((await counters()).packet_too_large).toBeGreaterThanOrEqual(1);
    await bystanderStillServed();
  });

  it("accepts a packet just under the limit", async () => {
    const big = await connectClient(server.mqttUrl, devices.big!, clients);
    await big.publishAsync("devices/big/telemetry", Buffer.alloc(900, 0x41), { qos: 1 });
    expect(big.connected).toBe(true);
    await big.endAsync();
  });

  it("closes an oversized packet over WebSocket alike", async () => {
    const big = await connectClient(server.wsUrl, devices.big!, clients);
    const bigClosed = closed(big);
    logged.mark();
    big.publish("devices/big/telemetry", Buffer.alloc(2_000, 0x41), { qos: 0 });
    await bigClosed;
    // The frame alone is over ws' maxPayload (MQTT_MAX_PACKET_BYTES): ws refuses it before buffering it.
    const refused = await logged.next("Max payload size exceeded");
    expect((refused.err as { code?: string }).code).toBe("WS_ERR_UNSUPPORTED_MESSAGE_LENGTH");
    await bystanderStillServed();
  });

  it("closes a TCP connection as soon as a fixed header declares too much, before any body arrives", async () => {
    const socket = await rawSocket(server.mqttUrl);
    const gone = socketClosed(socket);
    socket.on("error", () => undefined);
    logged.mark();
    socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(50_000_000)]));
    await gone;
    expect((await logged.next("MQTT connection closed")).msg).toMatch(
      /^MQTT connection closed: packet of at least \d+ bytes exceeds the 1024-byte limit/,
    );
  });

  it("closes a WebSocket whose MQTT packet is spread over small frames once its header declares too much", async () => {
    const before = (await counters()).packet_too_large ?? 0;
    const ws = new WebSocket(server.wsUrl, ["mqtt"]);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const gone = new Promise<void>((resolve) => ws.once("close", () => resolve()));
    logged.mark();
    // Every frame is far below ws' maxPayload; only the MQTT-level guard can see the packet's size.
    ws.send(Buffer.from([0x30]));
    ws.send(remainingLength(10_000));
    for (let i = 0; i < 20 && ws.readyState === WebSocket.OPEN; i++) ws.send(Buffer.alloc(100, 0x5a));
    await gone;
    expect((await logged.next("MQTT connection closed")).msg).toMatch(
      /^MQTT connection closed: packet of at least \d+ bytes exceeds the 1024-byte limit/,
    );
    expect((await counters()).packet_too_large).toBe(before + 1);
  });

  it("closes a socket that never sends CONNECT after MQTT_CONNECT_TIMEOUT_MS, and counts it", async () => {
    const before = (await counters()).connect_timeout ?? 0;
    logged.mark();
    const socket = await rawSocket(server.mqttUrl);
    socket.on("error", () => undefined);
    await socketClosed(socket);
    await logged.next("closed a connection that sent no CONNECT in time");
    expect((await counters()).connect_timeout).toBe(before + 1);
  });

  it("closes a publisher whose topic is longer than MQTT_MAX_TOPIC_LENGTH; answers 0x80 to such a filter", async () => {
    const deep = await connectClient(server.mqttUrl, devices.deep!, clients);
    expect(await subackCodes(deep, `devices/deep/${"x".repeat(80)}`)).toEqual([128]);
    expect(deep.connected).toBe(true);
    const deepClosed = closed(deep);
    logged.mark();
    deep.publish(`devices/deep/${"x".repeat(80)}`, "v", { qos: 0 });
    await deepClosed;
    const refused = await logged.next("MQTT PUBLISH refused, closing the connection: topic too long", (line) => line.clientId === "deep");
    expect(refused.reason).toBe("topic-name-invalid");
    expect((await counters()).topic_too_long).toBeGreaterThanOrEqual(1);
  });

  it("closes a publisher whose topic has more than MQTT_MAX_TOPIC_LEVELS levels", async () => {
    const deep = await connectClient(server.mqttUrl, devices.deep!, clients);
    const deepClosed = closed(deep);
    logged.mark();
    deep.publish("devices/deep/a/b/c/d/e/f/g", "v", { qos: 0 });
    await deepClosed;
    await logged.next("client error", (line) => line.clientId === "deep" && line.err === "topic has too many levels");
  });

  it("disconnects a device publishing faster than its rate (token bucket), and counts it", async () => {
    const chatty = await connectClient(server.mqttUrl, devices.chatty!, clients);
    const chattyClosed = closed(chatty);
    logged.mark();
    for (let i = 0; i < 40 && chatty.connected; i++) chatty.publish("devices/chatty/telemetry", `{"i":${i}}`, { qos: 0 });
    await chattyClosed;
    const refused = await logged.next(
      "MQTT PUBLISH refused, closing the connection: publish rate exceeded",
      (line) => line.clientId === "chatty",
    );
    expect(refused.reason).toBe("quota-exceeded");
    expect((await counters()).publish_rate_exceeded).toBeGreaterThanOrEqual(1);
    await bystanderStillServed();
  });
});

describe("per-node limits", () => {
  let server: TestServer;
  let token: string;
  const devices: IClientOptions[] = [];
  const logs = captureLogs();
  const logged = logWatch(logs);

  beforeAll(async () => {
    server = await startTestServer({ MQTT_MAX_CONNECTIONS: "2", MQTT_AUTH_FAILURES_PER_MINUTE: "3" }, { logger: logs.logger });
    token = await apiToken(server.httpUrl);
    for (const id of ["one", "two", "three"])
      devices.push({ ...(await registerDevice(server.httpUrl, token, { name: id, id })).credentials });
  });
  afterAll(() => server?.close());

  it("refuses connections past MQTT_MAX_CONNECTIONS, across transports, with CONNACK 0x03 Server unavailable, and admits again once one leaves", async () => {
    const one = await connectClient(server.mqttUrl, devices[0]!, clients);
    const two = await connectClient(server.wsUrl, devices[1]!, clients);
    logged.mark();
    const three = devices[2] as { clientId: string; username: string; password: string };
    expect(await rawConnack(server.mqttUrl, connectPacket({ ...three, clean: true }))).toEqual({ returnCode: 3, closedByServer: true });
    expect((await logged.next("MQTT CONNECT refused")).msg).toBe("MQTT CONNECT refused: server busy (MQTT_MAX_CONNECTIONS reached)");
    expect(one.connected && two.connected).toBe(true);
    const stats = await call(server.httpUrl, "GET", "/api/broker/stats", { token });
    expect(stats.body.counters.connections_over_limit).toBeGreaterThanOrEqual(1);
    await two.endAsync();
    // The count drops when the WebSocket connection's stream closes; a bounded wait for it.
    let code = -1;
    for (let attempt = 0; attempt < 50 && code !== 0; attempt++) {
      code = await connackCode(server.mqttUrl, devices[2]!).catch(() => -1);
      if (code !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(code).toBe(0);
    await one.endAsync();
  });

  it("throttles repeated CONNECT failures from one address: later attempts get 0x03 without a password check, and count", async () => {
    // "four" never connected to this node, so nothing vouches for it.
    const four = { ...(await registerDevice(server.httpUrl, token, { name: "four", id: "four" })).credentials };
    const from = "127.0.0.3";
    const connect = (password: string) => connackCodeFrom(server.mqttUrl, connectPacket({ ...four, password, clean: true }), from);
    for (let i = 0; i < 3; i++) expect(await connect("wrong")).toBe(4);
    expect(await connect(four.password)).toBe(3);
    expect((await call(server.httpUrl, "GET", "/api/broker/stats", { token })).body.counters.connect_throttled).toBeGreaterThanOrEqual(1);
  });

  it("keys the throttle by source address only: a stranger's failures with a device's client id never keep that device out", async () => {
    // Never connected to this node: nothing vouches for it, only the throttle's key decides.
    const victim = { ...(await registerDevice(server.httpUrl, token, { name: "victim", id: "victim" })).credentials };
    const stranger = "127.0.0.2";
    const attempt = () => connackCodeFrom(server.mqttUrl, connectPacket({ ...victim, password: "wrong", clean: true }), stranger);
    for (let i = 0; i < 3; i++) expect(await attempt()).toBe(4);
    expect(await attempt()).toBe(3);
    // The device, from its own address, with its correct password: in at once.
    expect(await connackCodeFrom(server.mqttUrl, connectPacket({ ...victim, clean: true }), "127.0.0.1")).toBe(0);
  });

  it("lets a device this node verified recently in even from a throttled address (a neighbour behind the same NAT failed), and no one else", async () => {
    const shared = "127.0.0.4";
    const neighbour = { ...(await registerDevice(server.httpUrl, token, { name: "five", id: "five" })).credentials };
    const neighbourConnect = (password: string) =>
      connackCodeFrom(server.mqttUrl, connectPacket({ ...neighbour, password, clean: true }), shared);
    for (let i = 0; i < 3; i++) expect(await neighbourConnect("wrong")).toBe(4);
    // devices[1] connected to this node before (verified against the database): vouched for.
    const known = devices[1] as { clientId: string; username: string; password: string };
    expect(await connackCodeFrom(server.mqttUrl, connectPacket({ ...known, clean: true }), shared)).toBe(0);
    // A correct password this node has not verified yet still waits for the minute to pass.
    expect(await neighbourConnect(neighbour.password)).toBe(3);
  });
});

describe("memory under hostile packets", () => {
  // A server process of its own, started as users start it, so that its RSS is the server's alone.
  let server: ServerProcess;
  let database: TestDatabase;
  let mqttUrl: string;
  let baseUrl: string;
  let token: string;
  let credentials: { clientId: string; username: string; password: string };
  const rss = async () => Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${server.child.pid}/status`, "utf8"))?.[1]) * 1024;

  beforeAll(async () => {
    database = await createTestDatabase();
    const [http, mqttPort] = [await findFreePort(), await findFreePort()];
    server = spawnServer({
      DATABASE_URL: database.url,
      PORT: String(http),
      MQTT_PORT: String(mqttPort),
      ADMIN_EMAIL: testAdmin.email,
      ADMIN_PASSWORD: testAdmin.password,
      // Long enough that only the packet guard can be what closes an unfinished CONNECT.
      MQTT_CONNECT_TIMEOUT_MS: "120000",
    });
    await server.waitForOutput(/Fleetwatch is running/);
    mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    baseUrl = `http://127.0.0.1:${http}`;
    token = await apiToken(baseUrl);
    // Warm up the paths the attacks use (HTTP, a CONNECT) so lazy initialisation is not counted.
    ({ credentials } = await registerDevice(baseUrl, token, { name: "warm" }));
    expect(await connackCode(mqttUrl, credentials)).toBe(0);
  });
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.exited;
    await database?.drop();
  });

  it("stays bounded when a client declares a 200 MB packet and streams junk: RSS grows by less than 20 MB", async () => {
    const before = await rss();
    const socket = await rawSocket(mqttUrl);
    socket.on("error", () => undefined);
    const gone = socketClosed(socket);
    socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(200 * 1024 * 1024)]));
    const junk = Buffer.alloc(64 * 1024, 0x5a);
    // Stream up to 200 MB of junk, waiting for the socket to drain, until the server closes it.
    for (let sent = 0; sent < 200 * 1024 * 1024 && !socket.destroyed; sent += junk.length) {
      if (!socket.write(junk)) await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), gone]);
    }
    await gone;
    const after = await rss();
    expect(after - before).toBeLessThan(20 * 1024 * 1024);
    // And the server still serves.
    expect(await connackCode(mqttUrl, credentials)).toBe(0);
  });

  it("closes 200 sockets that each declare a 262,000-byte CONNECT (MQTT_MAX_CONNECT_BYTES), before buffering them: RSS grows by less than 20 MB", async () => {
    const stats = async () => (await call(baseUrl, "GET", "/api/broker/stats", { token })).body.counters as Record<string, number>;
    const tooLargeBefore = (await stats()).packet_too_large ?? 0;
    const before = await rss();
    const declared = 262_000;
    const sockets = await Promise.all(Array.from({ length: 200 }, () => rawSocket(mqttUrl)));
    const body = Buffer.alloc(32 * 1024, 0x5a);
    const closings = sockets.map(async (socket): Promise<void> => {
      socket.on("error", () => undefined);
      const gone = socketClosed(socket);
      // A CONNECT's fixed header [MQTT-3.1.1], then most of the body it announces, never all of it.
      socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(declared - 4)]));
      for (let sent = 0; sent + body.length < declared - 4 && !socket.destroyed; sent += body.length) {
        if (!socket.write(body)) await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), gone]);
      }
      await gone;
    });
    // Every one is closed by the server's packet guard: the connect timeout is two minutes away.
    await Promise.all(closings);
    const after = await rss();
    expect(after - before).toBeLessThan(20 * 1024 * 1024);
    expect((await stats()).packet_too_large).toBe(tooLargeBefore + 200);
    // A CONNECT under the limit, with a 60 KB will, still gets in, and packets up to MQTT_MAX_PACKET_BYTES flow after CONNACK.
    const client = await connectClient(mqttUrl, {
      ...credentials,
      will: { topic: `devices/${credentials.clientId}/status`, payload: Buffer.alloc(60_000, 0x41), qos: 0, retain: false },
    });
    await client.publishAsync(`devices/${credentials.clientId}/blob`, Buffer.alloc(200_000, 0x42), { qos: 1 });
    await client.endAsync();
  });
});
