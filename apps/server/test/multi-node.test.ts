// Two server nodes of one deployment: one PostgreSQL, broker traffic bridged by Redis
// (REDIS_URL → mqemitter-redis). What a device does on one node must be seen, and what an
// operator does must take effect, on the other: routing, the dashboard's live channel,
// platform events, control messages and clientId takeover, a rotation on one node revoking
// what another node would let in during a database outage, and the broker clients view (a
// client on one node listed and disconnected through the other).
// Needs a Redis: TEST_REDIS_URL (.ci/run sets it, starting Redis when the machine lacks one).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { Redis } from "ioredis";
import type WebSocket from "ws";
import type { BrokerClientList, PlatformEvent } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { openLive } from "../../../test/support/live.ts";
import { startTcpProxy, type TcpProxy } from "../../../test/support/tcp-proxy.ts";
import { closed, connackCode, connectClient } from "../../../test/support/mqtt.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { waitFor } from "../../../test/support/wait.ts";

const redisUrl = process.env.TEST_REDIS_URL;
let nodeA: TestServer;
let nodeB: TestServer;
let token: string;
/** Node B reaches the shared PostgreSQL through this proxy, so a test can cut node B off alone. */
let nodeBDatabase: TcpProxy;
const clients: MqttClient[] = [];
const sockets: WebSocket[] = [];

const connect = (node: TestServer, options: mqtt.IClientOptions) => connectClient(node.mqttUrl, options, clients);

describe.skipIf(!redisUrl)("two nodes sharing PostgreSQL, bridged by Redis", () => {
  beforeAll(async () => {
    const env = { REDIS_URL: redisUrl as string, ALERT_OFFLINE_GRACE_MS: "0" };
    nodeA = await startTestServer(env);
    const target = new URL(nodeA.database.url);
    nodeBDatabase = await startTcpProxy(target.hostname, Number(target.port || 5432));
    nodeB = await startTestServer({ ...env, DATABASE_URL: nodeBDatabase.urlFor(nodeA.database.url) }, { database: nodeA.database });
    token = await apiToken(nodeA.httpUrl);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await Promise.all(clients.map((client) => client.endAsync(true)));
    nodeBDatabase?.restore();
    await nodeB?.close();
    await nodeA?.close();
    await nodeBDatabase?.close();
  });

  it("routes a publish on node A to an MQTT subscriber on node B", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Routed", id: "mn-routed" });
    const subscriber = await connect(nodeB, { clientId: "operator:mn-sub", username: "token", password: token });
    await subscriber.subscribeAsync("devices/+/telemetry", { qos: 1 });
    const received = new Promise<string>((resolve) => subscriber.once("message", (_topic, payload) => resolve(payload.toString())));

    const device = await connect(nodeA, { clientId: "mn-routed", username: "mn-routed", password: credentials.password });
    await device.publishAsync("devices/mn-routed/telemetry", '{"temperature":21.5}', { qos: 1 });
    expect(await received).toBe('{"temperature":21.5}');
  });

  it("shows a device connected to node A on a dashboard connected to node B: its presence and its messages", async () => {
    const { credentials } = await registerDevice(nodeB.httpUrl, token, { name: "Watched", id: "mn-watched" });
    const live = await openLive(nodeB.httpUrl, { authorization: `Bearer ${token}` });
    sockets.push(live.socket);
    live.send({ type: "subscribe", id: "t", filter: "devices/mn-watched/#" });
    await live.next((frame) => frame.type === "subscribed", "the subscription");

    const device = await connect(nodeA, { clientId: "mn-watched", username: "mn-watched", password: credentials.password });
    await live.next(
      (frame) =>
        frame.type === "batch" &&
        frame.events.some((event) => {
          const data = event.data as PlatformEvent;
          return data.kind === "presence" && data.deviceId === "mn-watched" && data.online;
        }),
      "node A's presence event on node B",
    );
    await device.publishAsync("devices/mn-watched/telemetry", '{"humidity":40}', { qos: 1 });
    await live.next(
      (frame) => frame.type === "batch" && frame.messages.some((message) => message.payload === '{"humidity":40}'),
      "the message on node B's live channel",
    );
  });

  it("closes a device's connection on node A when node B's API disables it", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Disabled", id: "mn-disabled" });
    const device = await connect(nodeA, { clientId: "mn-disabled", username: "mn-disabled", password: credentials.password });
    const closed = new Promise<void>((resolve) => device.once("close", () => resolve()));

    const reply = await call(nodeB.httpUrl, "POST", "/api/devices/mn-disabled/disable", { token });
    expect(reply.status).toBe(200);
    await closed;
  });

  it("lets a device that reconnects to node B take its session over from node A [MQTT-3.1.4-2]", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Moving", id: "mn-moving" });
    const login = { clientId: "mn-moving", username: "mn-moving", password: credentials.password };
    const first = await connect(nodeA, login);
    const firstClosed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await connect(nodeB, login);
    await firstClosed;
    expect(second.connected).toBe(true);
  });

  it("makes node B forget a device's secret when node A rotates it: during node B's database outage the old secret is refused, an untouched device gets in", async () => {
    const login = async (id: string) => {
      const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: id, id });
      return { clientId: id, username: id, password: credentials.password };
    };
    const rotated = await login("mn-rotated");
    const kept = await login("mn-kept");
    // Both verified by node B against the database; the rotated one stays connected there.
    expect(await connackCode(nodeB.mqttUrl, kept)).toBe(0);
    const onB = await connect(nodeB, rotated);
    const closedByB = new Promise<void>((resolve) => onB.once("close", () => resolve()));
    expect((await call(nodeA.httpUrl, "POST", "/api/devices/mn-rotated/credentials", { token })).status).toBe(200);
    // Node B acted on node A's control message (it forgets the secret before closing the connection).
    await closedByB;

    nodeBDatabase.cut();
    try {
      expect(await connackCode(nodeB.mqttUrl, rotated)).toBe(3);
      expect(await connackCode(nodeB.mqttUrl, kept)).toBe(0);
    } finally {
      nodeBDatabase.restore();
    }
  });

  // The broker clients view: the registry in the shared PostgreSQL, disconnects over the control channel.
  const listedOn = (node: TestServer, clientId: string) =>
    waitFor(
      async () => {
        const reply = await call<BrokerClientList>(node.httpUrl, "GET", `/api/broker/clients?search=${encodeURIComponent(clientId)}`, {
          token,
        });
        return reply.body.items.find((item) => item.clientId === clientId);
      },
      `${clientId} listed by ${node === nodeA ? "node A" : "node B"}`,
    );
  const disconnectVia = (node: TestServer, clientId: string, session: "keep" | "clear") =>
    call(node.httpUrl, "POST", `/api/broker/clients/${encodeURIComponent(clientId)}/disconnect`, { token, body: { session } });

  it("lists on node A a client connected to node B over WebSocket, with node B's id", async () => {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Remote", id: "mn-remote" });
    const device = await mqtt.connectAsync(nodeB.wsUrl, {
      clientId: "mn-remote",
      username: "mn-remote",
      password: credentials.password,
      reconnectPeriod: 0,
    });
    clients.push(device);
    const listed = await listedOn(nodeA, "mn-remote");
    expect(listed).toMatchObject({ nodeId: nodeB.fleetwatch.broker.id, transport: "websocket", protocolVersion: 4, kind: "device" });
    expect(nodeA.fleetwatch.broker.id).not.toBe(nodeB.fleetwatch.broker.id);
    const onB = await call<BrokerClientList>(
      nodeA.httpUrl,
      "GET",
      `/api/broker/clients?nodeId=${nodeB.fleetwatch.broker.id}&search=mn-remote`,
      {
        token,
      },
    );
    expect(onB.body.items.map((item) => item.clientId)).toEqual(["mn-remote"]);
  });

  /** A persistent session (cleanSession=0) on node B subscribed at QoS 1 to its commands (or `filter`), listed by node A. */
  async function persistentDeviceOnB(id: string, filter = `devices/${id}/commands/#`) {
    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: id, id });
    const login = { clientId: id, username: id, password: credentials.password, clean: false, protocolVersion: 4 as const };
    const device = await connect(nodeB, login);
    await device.subscribeAsync(filter, { qos: 1 });
    await listedOn(nodeA, id);
    return { device, login };
  }
  /** A QoS 1 message for the device, published by an operator on node A while the device is away. */
  async function queueCommand(id: string, payload: string) {
    const operator = await connect(nodeA, { clientId: `ops-${id}`, username: "token", password: token });
    await operator.publishAsync(`devices/${id}/commands/c1`, payload, { qos: 1 });
    await operator.endAsync();
  }

  it("disconnects through node A a persistent client on node B, keeping its session: it comes back to its subscription and the QoS 1 message queued meanwhile [MQTT-3.1.2-4]", async () => {
    const { device, login } = await persistentDeviceOnB("mn-kept-session");
    const gone = closed(device);
    const reply = await disconnectVia(nodeA, "mn-kept-session", "keep");
    expect(reply).toMatchObject({ status: 202, body: { nodeId: nodeB.fleetwatch.broker.id, session: "keep" } });
    await gone;
    await waitFor(
      async () =>
        (await call<BrokerClientList>(nodeA.httpUrl, "GET", "/api/broker/clients?search=mn-kept-session", { token })).body.total === 0,
      "the row to go",
    );
    await queueCommand("mn-kept-session", '{"name":"reboot"}');
    // Each step waits with its own name, so a failure says which one did not happen.
    await waitFor(
      async () => (await adminQuery(nodeA.database.url, "SELECT 1 FROM mqtt_outgoing WHERE client_id = 'mn-kept-session'")).rows.length > 0,
      "the command in the away device's queue",
    );

    const back = mqtt.connect(nodeB.mqttUrl, { ...login, reconnectPeriod: 0, connectTimeout: 5_000 });
    clients.push(back);
    const received: string[] = [];
    let connack: { sessionPresent: boolean } | undefined;
    back.on("message", (_topic, payload) => received.push(payload.toString()));
    back.once("connect", (packet) => (connack = packet));
    await waitFor(() => connack, "node B's CONNACK to the returning device");
    expect(connack?.sessionPresent).toBe(true);
    expect(await waitFor(() => received[0], "the queued command, sent on the session's return")).toBe('{"name":"reboot"}');
    // Listed again with the subscription aedes restored from the session, not re-sent by the client.
    const relisted = await listedOn(nodeA, "mn-kept-session");
    expect(relisted.subscriptions).toEqual([{ topic: "devices/mn-kept-session/commands/#", qos: 1 }]);
  });

  it("a persistent session's subscription whose broadcast node A missed is picked up once node A's Redis bridge reconnects, and its QoS 1 messages are queued again", async () => {
    const id = "mn-missed-broadcast";
    const { device } = await persistentDeviceOnB(id, `devices/${id}/commands/first`);
    await device.endAsync(); // cleanSession=0: the session and its subscriptions stay
    // A subscription node A never heard of, as if its broadcast had been dropped while Redis was
    // away: in the store (node B took it), but not in node A's trie.
    await adminQuery(nodeA.database.url, `INSERT INTO mqtt_subscriptions (client_id, topic, qos, options) VALUES ($1, $2, 1, '{}')`, [
      id,
      `devices/${id}/commands/second`,
    ]);
    const queued = async () =>
      (
        await adminQuery(
          nodeA.database.url,
          "SELECT count(*)::int AS n FROM mqtt_outgoing WHERE client_id = 'mn-missed-broadcast' AND packet->>'topic' LIKE '%/second'",
        )
      ).rows[0].n as number;
    const operator = await connect(nodeA, { clientId: "ops-missed-broadcast", username: "token", password: token });
    // Acknowledged once queued for the persistent sessions it matches: none, node A does not know it.
    await operator.publishAsync(`devices/${id}/commands/second`, "unseen", { qos: 1 });
    expect(await queued()).toBe(0);

    // Cut node A's subscribing Redis connection (only its own: other tests share this Redis).
    const redis = new Redis(redisUrl!);
    try {
      const list = (await redis.call("CLIENT", "LIST", "TYPE", "pubsub")) as string;
      const line = list.split("\n").find((entry) => entry.includes(`name=fleetwatch:${nodeA.fleetwatch.broker.id}:subscribe`));
      const connectionId = line?.match(/\bid=(\d+)/)?.[1];
      expect(connectionId, list).toBeDefined();
      await redis.call("CLIENT", "KILL", "ID", connectionId!);
    } finally {
      redis.disconnect();
    }
    await waitFor(async () => {
      await operator.publishAsync(`devices/${id}/commands/second`, "seen", { qos: 1 });
      return (await queued()) > 0;
    }, "node A to queue the session's messages after its Redis bridge reconnected");
  });

  it("disconnects through node A a persistent client on node B, clearing its session: it comes back to none, its subscriptions and queue gone [MQTT-3.1.2-6]", async () => {
    const { device, login } = await persistentDeviceOnB("mn-cleared-session");
    const gone = closed(device);
    expect((await disconnectVia(nodeA, "mn-cleared-session", "clear")).status).toBe(202);
    await gone;
    // The session's subscriptions are gone from the shared store (and so from every node's trie).
    await waitFor(
      async () =>
        (await adminQuery(nodeA.database.url, "SELECT 1 FROM mqtt_subscriptions WHERE client_id = 'mn-cleared-session'")).rows.length === 0,
      "the session's subscriptions to go",
    );
    await queueCommand("mn-cleared-session", '{"name":"reboot"}');
    expect((await adminQuery(nodeA.database.url, "SELECT 1 FROM mqtt_outgoing WHERE client_id = 'mn-cleared-session'")).rows).toEqual([]);

    const back = mqtt.connect(nodeB.mqttUrl, { ...login, reconnectPeriod: 0 });
    clients.push(back);
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once("connect", resolve));
    // No session to resume [MQTT-3.2.2-3]: nothing was kept for it.
    expect(connack.sessionPresent).toBe(false);
  });

  it("answers 404 on node A for a client connected nowhere", async () => {
    expect((await disconnectVia(nodeA, "mn-nobody", "keep")).status).toBe(404);
  });

  it("serves an operator's theme chosen through node A from node B, and the same aligned buckets from both", async () => {
    const changed = await call(nodeA.httpUrl, "PATCH", "/api/preferences", { token, body: { theme: "dark" } });
    expect(changed).toMatchObject({ status: 200, body: { theme: "dark" } });
    expect((await call(nodeB.httpUrl, "GET", "/api/preferences", { token })).body).toEqual({ theme: "dark" });

    const { credentials } = await registerDevice(nodeA.httpUrl, token, { name: "Charted", id: "mn-charted" });
    const device = await connect(nodeA, { clientId: "mn-charted", username: "mn-charted", password: credentials.password });
    const start = Date.now() - 600_000;
    for (let i = 0; i < 20; i++)
      await device.publishAsync("devices/mn-charted/telemetry", JSON.stringify({ v: i, ts: start + i * 17_000 }), { qos: 1 });
    const series = (node: TestServer) =>
      call(node.httpUrl, "GET", `/api/devices/mn-charted/telemetry?metric=v&from=${new Date(start - 5_000).toISOString()}&maxPoints=60`, {
        token,
      });
    const [a, b] = await Promise.all([series(nodeA), series(nodeB)]);
    expect(a.body.points.reduce((sum: number, point: { count: number }) => sum + point.count, 0)).toBe(20);
    expect(b.body.points).toEqual(a.body.points);
  });
});

describe.runIf(!redisUrl)("two nodes (skipped)", () => {
  it.skip("needs TEST_REDIS_URL: set it to a Redis (e.g. redis://127.0.0.1:6379) to run the multi-node tests", () => {});
});
