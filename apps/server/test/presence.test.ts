// Presence from real MQTT connections: online on CONNECT, offline after DISCONNECT or an
// unexpected loss (with the will and an offline alert), takeovers and blips that are not
// offline at all, last-seen times and the fleet summary.
import { createConnection } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import type { Alert, PlatformEvent, PresenceHistory } from "@fleetwatch/contracts";
import { PLATFORM_EVENTS_FILTER } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken } from "../../../test/support/api.ts";
import { deviceConnectOptions, deviceCredentials, registerDevice } from "../../../test/support/devices.ts";
import { connectPacket } from "../../../test/support/mqtt.ts";

const GRACE_MS = 1500;
let server: TestServer;
const clients: MqttClient[] = [];
const events: PlatformEvent[] = [];
let token: string;

beforeAll(async () => {
  server = await startTestServer({ ALERT_OFFLINE_GRACE_MS: String(GRACE_MS), ALERT_SWEEP_MS: "100", PRESENCE_FLUSH_MS: "200" });
  server.fleetwatch.broker.subscribe(
    PLATFORM_EVENTS_FILTER,
    (packet, done) => {
      events.push(JSON.parse(packet.payload.toString()) as PlatformEvent);
      done();
    },
    () => undefined,
  );
  const ids = ["dropper", "polite", "flapper", "taken", "sleepy", "never"];
  for (const id of ids) await registerDevice(server.database.url, id);
  await server.fleetwatch.database.prisma.device.updateMany({ where: { id: { in: ids } }, data: { tags: ["presence"] } });
  token = await apiToken(server.httpUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server.close();
});

/** Connects as the registered device `deviceId`, with its credentials. */
async function connect(deviceId: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(deviceId, options));
  clients.push(client);
  return client;
}

/** Connects as the test admin with an API token (operators may subscribe to any device's topics). */
async function connectOperator(clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(server.mqttUrl, {
    clientId,
    username: "token",
    password: token,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  clients.push(client);
  return client;
}

async function api<T>(url: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }> {
  const response = await server.fleetwatch.app.inject({
    method: (init?.method ?? "GET") as "GET",
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(init?.body ? { payload: init.body } : {}),
  });
  return { status: response.statusCode, body: response.json<T>() };
}

const presenceOf = async (id: string) => (await api<PresenceHistory>(`/api/devices/${id}/presence`)).body;
const alertsOf = async (id: string) => (await api<{ items: Alert[] }>(`/api/alerts?deviceId=${id}`)).body.items;
const eventsFor = (id: string) =>
  events.filter((e) =>
    e.kind === "presence" ? e.deviceId === id : e.kind.startsWith("alert.") && "alert" in e && e.alert.deviceId === id,
  );

const historyOf = async (id: string) => (await presenceOf(id)).items.map((e) => [e.online, e.reason]);

/**
 * Resolves once the presence sweep has confirmed every offline transition written before the
 * call, once its grace period passed, and raised its alert: a witness device drops now, and
 * the sweep that confirms its offline event confirms every earlier one in the same statement
 * and raises their alerts in the same call as its own. The witness is deleted afterwards
 * (its presence, events and alert go with it).
 */
async function afterEarlierOfflinesSwept(): Promise<void> {
  await registerDevice(server.database.url, "witness");
  const witness = await connect("witness");
  await waitForPresenceEvents("witness", 1);
  witness.stream.destroy();
  await expect.poll(() => alertsOf("witness"), { timeout: 10_000 }).toMatchObject([{ kind: "offline", state: "active" }]);
  const deleted = await server.fleetwatch.app.inject({
    method: "DELETE",
    url: "/api/devices/witness",
    headers: { authorization: `Bearer ${token}` },
  });
  expect(deleted.statusCode).toBe(204);
}

/** Waits until the device's presence history has `count` events (newest first). */
async function waitForPresenceEvents(id: string, count: number) {
  await expect.poll(async () => (await presenceOf(id)).items.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
  return presenceOf(id);
}

describe("presence", () => {
  it("a socket drop publishes the will, records an offline event and raises an offline alert; reconnecting resolves it [MQTT-3.1.2-8]", async () => {
    const watcher = await connectOperator("operator:status-watcher");
    await watcher.subscribeAsync("devices/dropper/status", { qos: 1 });
    const will = new Promise<string>((resolve) => watcher.once("message", (_t, payload) => resolve(payload.toString())));

    const device = await connect("dropper", {
      will: { topic: "devices/dropper/status", payload: Buffer.from("offline"), qos: 1, retain: false },
    });
    await waitForPresenceEvents("dropper", 1);
    expect((await presenceOf("dropper")).online).toBe(true);

    device.stream.destroy(); // the network fails: no DISCONNECT
    expect(await will).toBe("offline");
    const history = await waitForPresenceEvents("dropper", 2);
    expect(history).toMatchObject({
      online: false,
      items: [
        { online: false, reason: "connection lost" },
        { online: true, reason: "connected" },
      ],
    });
    await expect
      .poll(() => alertsOf("dropper"), { timeout: 10_000 })
      .toMatchObject([{ kind: "offline", state: "active", severity: "critical" }]);

    await connect("dropper");
    await expect.poll(() => alertsOf("dropper"), { timeout: 10_000 }).toMatchObject([{ kind: "offline", state: "resolved" }]);
    expect((await presenceOf("dropper")).items[0]).toMatchObject({ online: true, reason: "connected" });
    expect(eventsFor("dropper").map((e) => (e.kind === "presence" ? `${e.kind}:${e.online}` : e.kind))).toEqual([
      "presence:true",
      "presence:false",
      "alert.raised",
      "presence:true",
      "alert.resolved",
    ]);
  });

  it("a DISCONNECT records an offline event and raises no alert [MQTT-3.1.2-10]", async () => {
    const device = await connect("polite");
    await waitForPresenceEvents("polite", 1);
    await device.endAsync();
    const history = await waitForPresenceEvents("polite", 2);
    expect(history.online).toBe(false);
    expect(history.items.map((e) => [e.online, e.reason])).toEqual([
      [false, "disconnected"],
      [true, "connected"],
    ]);
    // The sweep that confirmed the offline event has also run the offline alert check.
    expect(await alertsOf("polite")).toEqual([]);
  });

  it("a device silent past 1.5 × its keepalive goes offline with reason keepalive timeout [MQTT-3.1.2-24]", async () => {
    // A raw client: CONNECT (MQTT 3.1.1, clean session, keepalive 1 s, as device "sleepy" with its credentials), then silence.
    const socket = createConnection({ host: "127.0.0.1", port: server.fleetwatch.ports.mqtt });
    socket.on("error", () => undefined);
    socket.write(connectPacket({ clientId: "sleepy", clean: true, keepalive: 1, ...deviceCredentials("sleepy") }));
    const history = await waitForPresenceEvents("sleepy", 2);
    expect(history.online).toBe(false);
    expect(history.items.map((e) => [e.online, e.reason])).toEqual([
      [false, "keepalive timeout"],
      [true, "connected"],
    ]);
    await expect.poll(() => alertsOf("sleepy"), { timeout: 10_000 }).toMatchObject([{ kind: "offline", state: "active" }]);
    socket.destroy();
  });

  it("a reconnect that replaces the connection keeps the device online [MQTT-3.1.4-2]", async () => {
    const connectionOf = async () =>
      (
        await server.fleetwatch.database.pool.query<{ connection_id: string }>(
          "SELECT connection_id FROM device_presence WHERE device_id = 'taken'",
        )
      ).rows[0]?.connection_id;
    const first = await connect("taken");
    await waitForPresenceEvents("taken", 1);
    const firstConnection = await connectionOf();
    const firstClosed = new Promise<void>((resolve) => first.once("close", () => resolve()));
    const second = await connect("taken");
    await firstClosed;
    // Presence has recorded the replacing connection. The broker reported the replaced one's
    // end in the same tick as the replacement, so presence has queued whatever it does about
    // it ahead of anything that happens to the device from now on.
    await expect.poll(connectionOf).not.toBe(firstConnection);
    const history = await presenceOf("taken");
    expect(history.online).toBe(true);
    expect(history.items.map((e) => [e.online, e.reason])).toEqual([[true, "connected"]]);
    // Nor later: the replaced connection's close was no offline transition to confirm, and no
    // blip. Presence applies one device's changes in order, so after a clean DISCONNECT of the
    // replacement its history must read exactly disconnected, then connected; had the replaced
    // connection's close taken the device offline, that DISCONNECT would change nothing, and
    // the history would read "connection lost".
    await second.endAsync();
    await expect
      .poll(() => historyOf("taken"), { timeout: 10_000 })
      .toEqual([
        [false, "disconnected"],
        [true, "connected"],
      ]);
    const { rows } = await server.fleetwatch.database.pool.query("SELECT flaps FROM device_presence WHERE device_id = 'taken'");
    expect(rows).toEqual([{ flaps: 0 }]);
    // Connected again, as the fleet summary below counts it.
    await connect("taken");
    await waitForPresenceEvents("taken", 3);
  });

  it("a drop followed by a reconnect within the grace period is a coalesced blip: no events, no alert", async () => {
    const device = await connect("flapper");
    await waitForPresenceEvents("flapper", 1);
    device.stream.destroy();
    await expect.poll(async () => (await presenceOf("flapper")).online).toBe(false);
    await connect("flapper");
    await expect.poll(async () => (await presenceOf("flapper")).online).toBe(true);
    // Past the drop's grace period: an offline event would have been confirmed by now.
    await afterEarlierOfflinesSwept();
    expect((await presenceOf("flapper")).items).toHaveLength(1);
    expect(await alertsOf("flapper")).toEqual([]);
    const { rows } = await server.fleetwatch.database.pool.query("SELECT flaps FROM device_presence WHERE device_id = 'flapper'");
    expect(rows).toEqual([{ flaps: 1 }]);
  });

  it("keeps lastSeenAt current from traffic, written in periodic batches", async () => {
    const device = await connect("dropper");
    const lastSeen = async () =>
      (await server.fleetwatch.database.prisma.device.findUniqueOrThrow({ where: { id: "dropper" } })).lastSeenAt?.getTime() ?? 0;
    const before = await lastSeen();
    // A write from now on stamps a later time: wait until the database's clock has passed it.
    const databaseNow = async () =>
      (await server.fleetwatch.database.pool.query<{ now: number }>("SELECT extract(epoch FROM now())::float8 * 1000 AS now")).rows[0]!.now;
    await expect.poll(databaseNow).toBeGreaterThan(before);
    await device.publishAsync("devices/dropper/telemetry", JSON.stringify({ temp: 20 }), { qos: 1 });
    await expect.poll(lastSeen, { timeout: 5_000 }).toBeGreaterThan(before);
  });

  it("the fleet summary counts devices online, offline and never seen, and open alerts", async () => {
    const { status, body } = await api<{ devices: Record<string, number>; alerts: Record<string, number> }>("/api/fleet/summary");
    expect(status).toBe(200);
    const { rows } = await server.fleetwatch.database.pool.query(
      `SELECT (count(*) FILTER (WHERE online))::int AS online, (count(*) FILTER (WHERE NOT online AND last_seen_at IS NOT NULL))::int AS offline
       FROM devices`,
    );
    // dropper, taken and flapper are connected; polite and sleepy went offline; never never connected.
    expect(body.devices).toEqual({ total: 6, online: 3, offline: 2, neverSeen: 1 });
    expect(rows).toEqual([{ online: 3, offline: 2 }]);
    expect(body.alerts).toEqual({ active: 1, acknowledged: 0 }); // sleepy's offline alert
  });

  it("answers 404 for the presence of an unknown device and 400 for an invalid id", async () => {
    expect((await api("/api/devices/nobody/presence")).status).toBe(404);
    expect((await api("/api/devices/Not_A_Slug/presence")).status).toBe(400);
  });
});

describe("with a long offline grace period", () => {
  // A grace period far longer than this test may run: any offline event that appears did not
  // wait for it.
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startTestServer({ ALERT_OFFLINE_GRACE_MS: "600000", ALERT_SWEEP_MS: "100" });
    for (const id of ["silent", "cut"]) await registerDevice(slow.database.url, id);
  });
  afterAll(async () => slow?.close());

  const presence = async (id: string) => {
    const login = await slow.fleetwatch.app.inject({
      method: "POST",
      url: "/api/auth/login",
      payload: { email: "admin@test.local", password: "admin-password-1" },
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0] as string;
    return (
      await slow.fleetwatch.app.inject({ method: "GET", url: `/api/devices/${id}/presence`, headers: { cookie } })
    ).json<PresenceHistory>();
  };

  it("a keepalive timeout is announced without waiting for the grace period (the silence already lasted 1.5 × keepalive), a cut connection is not", async () => {
    const silent = createConnection({ host: "127.0.0.1", port: slow.fleetwatch.ports.mqtt });
    silent.on("error", () => undefined);
    silent.write(connectPacket({ clientId: "silent", clean: true, keepalive: 1, ...deviceCredentials("silent") }));
    const cut = await mqtt.connectAsync(slow.mqttUrl, deviceConnectOptions("cut"));
    await expect.poll(async () => (await presence("cut")).items.length, { timeout: 10_000 }).toBe(1);
    cut.stream.destroy(); // connection lost: damped by the grace period

    await expect
      .poll(async () => (await presence("silent")).items.map((e) => [e.online, e.reason]), { timeout: 15_000 })
      .toEqual([
        [false, "keepalive timeout"],
        [true, "connected"],
      ]);
    const cutHistory = await presence("cut");
    expect(cutHistory.online).toBe(false); // written at once…
    expect(cutHistory.items.map((e) => [e.online, e.reason])).toEqual([[true, "connected"]]); // …announced only after the grace period
    silent.destroy();
  });
});
