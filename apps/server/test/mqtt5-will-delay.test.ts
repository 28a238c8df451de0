// MQTT 5 Will Delay Interval, kept in PostgreSQL (broker/session-timers.ts): a device that
// drops with a delayed will has it published once the delay has passed, by whichever node's
// sweep claims it (the node it left, another node, or the next process after a restart); a
// reconnect on any node within the delay publishes no will and raises no offline alert
// [MQTT-3.1.3-9]; a session that ends first takes the will with it [MQTT-3.1.2-8]. No timing
// is asserted: the due time is PostgreSQL's (due_at), and a message is compared with it, or
// with another device's will that was due later (a witness: the sweep publishes in due order).
// The two-node cases need a Redis: TEST_REDIS_URL (.ci/run sets it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { Alert } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import fc from "fast-check";
import pg from "pg";
import { PgPersistence, type DelayedWillPacket } from "../src/broker/persistence/pg-persistence.ts";

const redisUrl = process.env.TEST_REDIS_URL;
let database: TestDatabase;
const clients: MqttClient[] = [];
const running = new Set<TestServer>();

// A sweep far slower than any test: a will published on time was published by the node the
// device left, which wakes at its due time, or by a sweep at start.
const env = { MQTT_SESSION_SWEEP_MS: "600000", ALERT_OFFLINE_GRACE_MS: "100", ALERT_SWEEP_MS: "100", PRESENCE_FLUSH_MS: "200" };

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  for (const server of running) await server.close();
  await database.drop();
});

async function start(extra: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ ...env, ...extra }, { database });
  running.add(server);
  return server;
}

async function stop(server: TestServer): Promise<void> {
  running.delete(server);
  await server.close();
}

async function device(server: TestServer, id: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id, { protocolVersion: 5, ...options }));
  clients.push(client);
  return client;
}

/** A device whose will ("gone", on devices/<id>/status) is delayed by `willDelay` seconds. */
async function deviceWithWill(
  server: TestServer,
  id: string,
  willDelay: number,
  { sessionExpiry = 3_600, retain = false }: { sessionExpiry?: number; retain?: boolean } = {},
): Promise<MqttClient> {
  await registerDevice(database.url, id);
  return device(server, id, {
    properties: { sessionExpiryInterval: sessionExpiry },
    will: {
      topic: `devices/${id}/status`,
      payload: Buffer.from("gone"),
      qos: 1,
      retain,
      properties: { willDelayInterval: willDelay, contentType: "text/plain", userProperties: { cause: "will" } },
    },
  });
}

/**
 * An operator subscribed to every device's status topic, recording what arrives, in order;
 * retained messages sent at the subscription (another test's) only with `retained`.
 */
async function watch(
  server: TestServer,
  name: string,
  { retained = false }: { retained?: boolean } = {},
): Promise<{ received: IPublishPacket[]; topics: () => string[] }> {
  const token = await apiToken(server.httpUrl);
  const client = await mqtt.connectAsync(server.mqttUrl, {
    clientId: `operator:${name}`,
    username: "token",
    password: token,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  clients.push(client);
  const received: IPublishPacket[] = [];
  client.on("message", (_topic, _payload, packet) => {
    if (retained || !packet.retain) received.push(packet);
  });
  await client.subscribeAsync("devices/+/status", { qos: 1 });
  return { received, topics: () => received.map((packet) => packet.topic) };
}

/** The network fails: no DISCONNECT, so the will is due [MQTT-3.1.2-8]. */
const drop = (client: MqttClient) => client.stream.destroy();

const delayedWill = async (clientId: string) =>
  (
    await adminQuery(database.url, "SELECT due_at, node_id, due_at > now() AS pending FROM mqtt_delayed_wills WHERE client_id = $1", [
      clientId,
    ])
  ).rows[0] as { due_at: Date; node_id: string; pending: boolean } | undefined;

const isPast = async (at: Date) => ((await adminQuery(database.url, "SELECT now() >= $1 AS past", [at])).rows[0] as { past: boolean }).past;

const presence = async (deviceId: string) =>
  (
    await adminQuery(
      database.url,
      `SELECT p.offline_pending, (SELECT count(*)::int FROM presence_events e WHERE e.device_id = p.device_id AND NOT e.online) AS offline_events
         FROM device_presence p WHERE p.device_id = $1`,
      [deviceId],
    )
  ).rows[0] as { offline_pending: boolean; offline_events: number } | undefined;

async function offlineAlerts(server: TestServer, deviceId: string): Promise<Alert[]> {
  const token = await apiToken(server.httpUrl);
  const reply = await call<{ items: Alert[] }>(server.httpUrl, "GET", `/api/alerts?deviceId=${deviceId}`, { token });
  return reply.body.items.filter((alert) => alert.kind === "offline");
}

/**
 * A 3.1.1 device without a will drops now: once its offline alert is raised, the presence
 * sweep has run past the grace period (100 ms) of every device that went offline before.
 */
async function sweptPastGrace(server: TestServer, witnessId: string): Promise<void> {
  await registerDevice(database.url, witnessId);
  const witness = await device(server, witnessId, { protocolVersion: 4 });
  await expect.poll(() => presence(witnessId)).toMatchObject({ offline_pending: false });
  drop(witness);
  await expect.poll(() => offlineAlerts(server, witnessId), { timeout: 15_000 }).toMatchObject([{ state: "active" }]);
}

describe("the delayed will store", () => {
  it("a will's topic, payload and properties, as a client may send them, come back from PostgreSQL unchanged", async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 2 });
    const store = new PgPersistence({ pool, queueLimit: 10 });
    // What the persistence needs of the broker here: its node id.
    await store.setup({
      id: "wd-store",
      counter: 0,
      publish: (_p, done) => done(),
      subscribe: (_t, _h, done) => done(),
      unsubscribe: (_t, _h, done) => done(),
    });
    // A CONNECT with U+0000 in the will's topic or properties is refused [MQTT-1.5.4-2], and
    // UTF-8 from the wire carries no lone surrogate: any other text reaches the store.
    const text = (maxLength: number) => fc.string({ unit: "binary", maxLength }).filter((value) => !value.includes("\u0000"));
    const will = fc.record({
      topic: text(40).filter((topic) => topic.length > 0),
      payload: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
      retain: fc.boolean(),
      properties: fc.record(
        {
          payloadFormatIndicator: fc.boolean(),
          messageExpiryInterval: fc.integer({ min: 0, max: 0xffff_ffff }),
          contentType: text(20),
          responseTopic: text(20),
          correlationData: fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
          userProperties: fc.dictionary(text(8), fc.oneof(text(8), fc.array(text(8), { minLength: 2, maxLength: 3 })), { maxKeys: 3 }),
        },
        { requiredKeys: [] },
      ),
    });
    try {
      await fc.assert(
        fc.asyncProperty(will, async (packet: DelayedWillPacket) => {
          // Due at once (0 s), so the claim returns it.
          await store.delayWill("wd-store-client", packet, 0);
          const claimed = await store.claimDueWills([]);
          expect(claimed).toEqual([{ clientId: "wd-store-client", packet, publisher: null, claim: expect.any(String) }]);
        }),
        { numRuns: 60 },
      );
    } finally {
      await store.destroy();
      await pool.end();
    }
  });
});

describe("the delayed will store's claims (at least once)", () => {
  let pool: pg.Pool;
  const stores: PgPersistence[] = [];
  /** A node's store: what the persistence needs of the broker here is its node id. */
  async function node(id: string): Promise<PgPersistence> {
    const store = new PgPersistence({ pool, queueLimit: 10 });
    await store.setup({
      id,
      counter: 0,
      publish: (_p, done) => done(),
      subscribe: (_t, _h, done) => done(),
      unsubscribe: (_t, _h, done) => done(),
    });
    stores.push(store);
    return store;
  }
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
  });
  afterAll(async () => {
    for (const store of stores) await store.destroy();
    await pool.end();
  });
  const will: DelayedWillPacket = {
    topic: "devices/wd-lease-store/status",
    payload: Buffer.from("gone"),
    qos: 1,
    retain: false,
    properties: {},
  };
  const claimedIds = (claimed: { clientId: string }[]) =>
    claimed.map((row) => row.clientId).filter((id) => id.startsWith("wd-lease-store"));

  it("a claimed will stays until settled: no node claims it again while its lease runs, any node once it ran out or was given back", async () => {
    const [a, b] = [await node("wd-lease-a"), await node("wd-lease-b")];
    await a.delayWill("wd-lease-store", will, 0, { kind: "device", deviceId: "wd-lease-store" });
    const [first] = await a.claimDueWills([]);
    expect(first).toMatchObject({ clientId: "wd-lease-store", publisher: { kind: "device", deviceId: "wd-lease-store" } });
    // Claimed, not deleted; held for the lease.
    expect(claimedIds(await b.claimDueWills([]))).toEqual([]);
    expect(await delayedWill("wd-lease-store")).toBeDefined();

    // Given back (its publish failed): claimable at once, under a new claim.
    await a.releaseWill(first!);
    const [second] = await b.claimDueWills([]);
    expect(second?.clientId).toBe("wd-lease-store");
    expect(second?.claim).not.toBe(first?.claim);
    // The old claim is no longer the will's: it neither renews, nor deletes, nor gives it back.
    expect(await a.renewWillClaim(first!)).toBe(false);
    await a.settleWill(first!);
    await a.releaseWill(first!);
    expect(claimedIds(await a.claimDueWills([]))).toEqual([]);

    // Node b dies holding it: once the lease has run out, node a claims it.
    await adminQuery(database.url, "UPDATE mqtt_delayed_wills SET claimed_until = now() - interval '1 second' WHERE client_id = $1", [
      "wd-lease-store",
    ]);
    const [third] = await a.claimDueWills([]);
    expect(third?.clientId).toBe("wd-lease-store");
    expect(await b.renewWillClaim(second!)).toBe(false);
    expect(await a.renewWillClaim(third!)).toBe(true);
    await a.settleWill(third!);
    expect(await delayedWill("wd-lease-store")).toBeUndefined();
  });

  it("a newer will of the client replaces a claimed one: the old claim cannot delete it", async () => {
    const store = await node("wd-lease-c");
    await store.delayWill("wd-lease-store-newer", will, 0, { kind: "anonymous" });
    const [old] = await store.claimDueWills([]);
    expect(old?.clientId).toBe("wd-lease-store-newer");
    // The client came back and left again, with a will due in an hour.
    await store.delayWill("wd-lease-store-newer", will, 3_600, { kind: "anonymous" });
    await store.settleWill(old!);
    expect(await delayedWill("wd-lease-store-newer")).toMatchObject({ pending: true });
    await store.resumeSession("wd-lease-store-newer");
  });
});

describe("MQTT 5 Will Delay Interval on one node [MQTT-3.1.3-9]", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start();
  });

  it("a dropped device's will is published once its delay has passed, with its properties, and its offline alert is raised only then", async () => {
    const watcher = await watch(server, "wd-watch-late");
    const late = await deviceWithWill(server, "wd-late", 5);
    await expect.poll(() => presence("wd-late")).toMatchObject({ offline_pending: false });
    drop(late);
    await expect.poll(() => delayedWill("wd-late")).toMatchObject({ pending: true });
    const { due_at: due } = (await delayedWill("wd-late"))!;
    await expect.poll(() => presence("wd-late")).toMatchObject({ offline_pending: true });
    await sweptPastGrace(server, "wd-late-grace");
    // ... yet wd-late, whose will is not due, is not offline for alerts.
    expect(await presence("wd-late")).toMatchObject({ offline_pending: true, offline_events: 0 });
    expect(await offlineAlerts(server, "wd-late")).toEqual([]);
    expect(watcher.topics()).toEqual([]);
    // (All of that before the will was due.)
    expect(await delayedWill("wd-late")).toMatchObject({ pending: true });

    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-late/status"]);
    expect(await isPast(due)).toBe(true);
    expect(await delayedWill("wd-late")).toBeUndefined();
    const [will] = watcher.received;
    expect(will?.payload.toString()).toBe("gone");
    // The will's own property is not the message's [MQTT-3.1.3-9]; the others travel with it.
    expect(will?.properties).toMatchObject({ contentType: "text/plain", userProperties: { cause: "will" } });
    expect(will?.properties).not.toHaveProperty("willDelayInterval");
    await expect.poll(() => offlineAlerts(server, "wd-late"), { timeout: 15_000 }).toMatchObject([{ state: "active" }]);
    expect(await presence("wd-late")).toMatchObject({ offline_pending: false, offline_events: 1 });
    // Once: aedes armed no timer of its own (our patch's delayWill option).
    expect(watcher.topics()).toEqual(["devices/wd-late/status"]);
  });

  it("a device that reconnects within the delay publishes no will and raises no offline alert", async () => {
    const watcher = await watch(server, "wd-watch-back");
    const back = await deviceWithWill(server, "wd-back", 5);
    drop(back);
    await expect.poll(() => delayedWill("wd-back")).toMatchObject({ pending: true });
    const { due_at: due } = (await delayedWill("wd-back"))!;
    await expect.poll(() => presence("wd-back")).toMatchObject({ offline_pending: true });
    // Back after its grace period, within its will delay.
    await sweptPastGrace(server, "wd-back-grace");
    expect(await delayedWill("wd-back")).toMatchObject({ pending: true });
    await device(server, "wd-back", { clean: false, properties: { sessionExpiryInterval: 3_600 } });
    await expect.poll(() => delayedWill("wd-back")).toBeUndefined();

    // Once wd-back's will would have been due, a witness drops: when its will and offline
    // alert arrive, wd-back's would have come already.
    await expect.poll(() => isPast(due), { timeout: 15_000, interval: 200 }).toBe(true);
    const witness = await deviceWithWill(server, "wd-back-witness", 1);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-back-witness/status"]);
    await expect.poll(() => offlineAlerts(server, "wd-back-witness"), { timeout: 15_000 }).toMatchObject([{ state: "active" }]);
    expect(await offlineAlerts(server, "wd-back")).toEqual([]);
    expect(await presence("wd-back")).toMatchObject({ offline_pending: false, offline_events: 0 });
  });

  it("a DISCONNECT with reason 0x00 deletes the will: nothing is delayed or published [MQTT-3.1.2-10]", async () => {
    const watcher = await watch(server, "wd-watch-polite");
    const polite = await deviceWithWill(server, "wd-polite", 1);
    await polite.endAsync();
    const witness = await deviceWithWill(server, "wd-polite-witness", 1);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-polite-witness/status"]);
    expect(await delayedWill("wd-polite")).toBeUndefined();
  });

  it("a session that expires before the will delay passes takes the will with it: published at the session's end [MQTT-3.1.3-9]", async () => {
    const watcher = await watch(server, "wd-watch-expiry");
    // A will delay of an hour, a session of one second.
    const brief = await deviceWithWill(server, "wd-brief", 3_600, { sessionExpiry: 1 });
    drop(brief);
    await expect.poll(() => delayedWill("wd-brief")).toMatchObject({ pending: true });
    const expiry = (await adminQuery(database.url, "SELECT expires_at FROM mqtt_session_expiry WHERE client_id = $1", ["wd-brief"]))
      .rows[0] as { expires_at: Date } | undefined;
    const { due_at: due } = (await delayedWill("wd-brief"))!;
    expect(expiry && due <= expiry.expires_at).toBe(true);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-brief/status"]);
    expect(await isPast(due)).toBe(true);
  });

  it("a device deleted during its will delay publishes no will: its delayed will and session end go with it", async () => {
    const watcher = await watch(server, "wd-watch-deleted");
    const token = await apiToken(server.httpUrl);
    const deleted = await deviceWithWill(server, "wd-deleted", 2, { retain: true });
    drop(deleted);
    await expect.poll(() => delayedWill("wd-deleted")).toMatchObject({ pending: true });
    const { due_at: due } = (await delayedWill("wd-deleted"))!;
    expect((await call(server.httpUrl, "DELETE", "/api/devices/wd-deleted", { token })).status).toBe(204);
    expect(await delayedWill("wd-deleted")).toBeUndefined();
    expect((await adminQuery(database.url, "SELECT 1 FROM mqtt_session_expiry WHERE client_id = $1", ["wd-deleted"])).rowCount).toBe(0);

    // Once its will would have been due, a witness drops: when its will arrives, wd-deleted's would have come already.
    await expect.poll(() => isPast(due), { timeout: 15_000, interval: 200 }).toBe(true);
    const witness = await deviceWithWill(server, "wd-deleted-witness", 1);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-deleted-witness/status"]);
    expect(
      (await adminQuery(database.url, "SELECT count(*)::int AS n FROM mqtt_retained WHERE topic = $1", ["devices/wd-deleted/status"]))
        .rows[0],
    ).toEqual({ n: 0 });
  });

  it("a device deleted while connected leaves no delayed will: its connection is closed and its will dropped", async () => {
    const watcher = await watch(server, "wd-watch-deleted-live");
    const token = await apiToken(server.httpUrl);
    const live = await deviceWithWill(server, "wd-deleted-live", 1);
    const closed = new Promise<void>((resolve) => live.once("close", () => resolve()));
    expect((await call(server.httpUrl, "DELETE", "/api/devices/wd-deleted-live", { token })).status).toBe(204);
    await closed;
    // Its will would be due a second after the close: a witness dropped later, due later, comes alone.
    const witness = await deviceWithWill(server, "wd-deleted-live-witness", 2);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-deleted-live-witness/status"]);
    expect(await delayedWill("wd-deleted-live")).toBeUndefined();
    expect((await adminQuery(database.url, "SELECT 1 FROM mqtt_wills WHERE client_id = $1", ["wd-deleted-live"])).rowCount).toBe(0);
    expect((await adminQuery(database.url, "SELECT 1 FROM mqtt_session_expiry WHERE client_id = $1", ["wd-deleted-live"])).rowCount).toBe(
      0,
    );
  });

  afterAll(async () => {
    await stop(server);
  });
});

describe("MQTT 5 delayed wills are published at least once", () => {
  it("a will whose publication fails (PostgreSQL refuses its retained write) is kept, and published by a later sweep", async () => {
    // Every sweep runs 200 ms after the last: the retry.
    const server = await start({ MQTT_SESSION_SWEEP_MS: "200" });
    const watcher = await watch(server, "wd-watch-retry");
    // PostgreSQL refuses the first write of this will's retained message (a sequence is not
    // rolled back with the failed statement), as a full disk or a lost connection would.
    await adminQuery(
      database.url,
      `CREATE SEQUENCE wd_retry_attempts;
       CREATE FUNCTION wd_retry_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.topic = 'devices/wd-retry/status' AND nextval('wd_retry_attempts') = 1 THEN
           RAISE EXCEPTION 'wd-retry: the first retained write fails';
         END IF;
         RETURN NEW;
       END $$;
       CREATE TRIGGER wd_retry_fail_once BEFORE INSERT ON mqtt_retained FOR EACH ROW EXECUTE FUNCTION wd_retry_fail_once();`,
    );
    try {
      const leaver = await deviceWithWill(server, "wd-retry", 1, { retain: true });
      drop(leaver);
      await expect.poll(() => delayedWill("wd-retry")).toMatchObject({ pending: true });
      await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-retry/status"]);
      // The first write failed (that publication reached no subscriber), a later one succeeded.
      const attempts = (await adminQuery(database.url, "SELECT last_value::int AS n FROM wd_retry_attempts")).rows[0] as { n: number };
      expect(attempts.n).toBeGreaterThanOrEqual(2);
      expect(watcher.received[0]?.payload.toString()).toBe("gone");
      await expect.poll(() => delayedWill("wd-retry")).toBeUndefined();
      expect(
        (await adminQuery(database.url, "SELECT count(*)::int AS n FROM mqtt_retained WHERE topic = $1", ["devices/wd-retry/status"]))
          .rows[0],
      ).toEqual({ n: 1 });
      // And once: a witness due later bounds the wait for a second copy.
      const witness = await deviceWithWill(server, "wd-retry-witness", 1);
      drop(witness);
      await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-retry-witness/status");
      expect(watcher.topics()).toEqual(["devices/wd-retry/status", "devices/wd-retry-witness/status"]);
    } finally {
      await adminQuery(
        database.url,
        "DROP TRIGGER wd_retry_fail_once ON mqtt_retained; DROP FUNCTION wd_retry_fail_once(); DROP SEQUENCE wd_retry_attempts",
      );
      await stop(server);
      // Later tests' subscriptions would receive it.
      await adminQuery(database.url, "DELETE FROM mqtt_retained WHERE topic = $1", ["devices/wd-retry/status"]);
    }
  });

  it("a will the broker refuses (its anonymous client's access was turned off) is deleted, not published nor retried", async () => {
    const open = await start({ MQTT_ALLOW_ANONYMOUS: "true" });
    const anonymous = await mqtt.connectAsync(open.mqttUrl, {
      clientId: "wd-anonymous",
      protocolVersion: 5,
      reconnectPeriod: 0,
      properties: { sessionExpiryInterval: 3_600 },
      will: {
        topic: "devices/wd-anonymous/status",
        payload: Buffer.from("gone"),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 1 },
      },
    });
    clients.push(anonymous);
    drop(anonymous);
    await expect.poll(() => delayedWill("wd-anonymous")).toMatchObject({ pending: true });
    await stop(open);
    await expect.poll(() => delayedWill("wd-anonymous"), { timeout: 10_000, interval: 200 }).toMatchObject({ pending: false });

    // Restarted without anonymous access: its sweep at start finds the will due, and the gate
    // refuses it, as it would refuse that client's PUBLISH now.
    const closed = await start({ MQTT_SESSION_SWEEP_MS: "200" });
    const watcher = await watch(closed, "wd-watch-refused");
    await expect.poll(() => delayedWill("wd-anonymous"), { timeout: 10_000 }).toBeUndefined();
    const witness = await deviceWithWill(closed, "wd-refused-witness", 1);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-refused-witness/status");
    expect(watcher.topics()).toEqual(["devices/wd-refused-witness/status"]);
    await stop(closed);
  });
});

describe("MQTT 5 Will Delay Interval across a restart", () => {
  it("a will delayed when the server stopped is published by the next server once due, and not by the stopping one", async () => {
    const first = await start();
    const watcher = await watch(first, "wd-watch-restart");
    const leaver = await deviceWithWill(first, "wd-restart", 1, { retain: true });
    drop(leaver);
    await expect.poll(() => delayedWill("wd-restart")).toMatchObject({ pending: true });
    const { due_at: due } = (await delayedWill("wd-restart"))!;
    await stop(first);
    expect(watcher.topics()).toEqual([]);
    // No server runs while the delay passes (PostgreSQL's clock decides).
    await expect.poll(() => delayedWill("wd-restart"), { timeout: 10_000, interval: 200 }).toMatchObject({ pending: false });
    expect(
      (await adminQuery(database.url, "SELECT count(*)::int AS n FROM mqtt_retained WHERE topic = $1", ["devices/wd-restart/status"]))
        .rows[0],
    ).toEqual({ n: 0 });

    const second = await start();
    // Its sweep at start publishes it (retained, so a subscriber that comes later sees it).
    await expect.poll(() => delayedWill("wd-restart"), { timeout: 10_000 }).toBeUndefined();
    const later = await watch(second, "wd-watch-restart-2", { retained: true });
    await expect.poll(() => later.topics(), { timeout: 10_000 }).toEqual(["devices/wd-restart/status"]);
    expect(later.received[0]?.payload.toString()).toBe("gone");
    expect(await isPast(due)).toBe(true);
    await stop(second);
  });
});

describe.skipIf(!redisUrl)("MQTT 5 Will Delay Interval on two nodes sharing PostgreSQL, bridged by Redis", () => {
  // Both nodes sweep often here, so that they race for every due will.
  const cluster = { REDIS_URL: redisUrl as string, MQTT_SESSION_SWEEP_MS: "100" };
  let nodeA: TestServer;
  let nodeB: TestServer;
  beforeAll(async () => {
    nodeA = await start(cluster);
    nodeB = await start(cluster);
  });

  it("a device that drops on node A and reconnects on node B within the delay publishes no will", async () => {
    const watcher = await watch(nodeB, "wd-watch-moved");
    const moved = await deviceWithWill(nodeA, "wd-moved", 2);
    drop(moved);
    await expect.poll(() => delayedWill("wd-moved")).toMatchObject({ pending: true, node_id: nodeA.fleetwatch.broker.id });
    await device(nodeB, "wd-moved", { clean: false, properties: { sessionExpiryInterval: 3_600 } });
    await expect.poll(() => delayedWill("wd-moved")).toBeUndefined();

    const witness = await deviceWithWill(nodeA, "wd-moved-witness", 2);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-moved-witness/status"]);
    await expect.poll(() => offlineAlerts(nodeB, "wd-moved-witness"), { timeout: 15_000 }).toMatchObject([{ state: "active" }]);
    expect(await offlineAlerts(nodeB, "wd-moved")).toEqual([]);
  });

  it("a will that node A records only after the device reconnected on node B is deleted again by node A, not published", async () => {
    const watcher = await watch(nodeB, "wd-watch-late-write");
    const racer = await deviceWithWill(nodeA, "wd-late-write", 2);
    // Every connection of node A's pool is busy for a while: its record of the will waits
    // until after the device has reconnected on node B, whose deletion then found nothing.
    const pool = nodeA.fleetwatch.database.pool;
    const busy = Array.from({ length: pool.options.max }, () => pool.query("SELECT pg_sleep(2)"));
    drop(racer);
    await device(nodeB, "wd-late-write", { clean: false, properties: { sessionExpiryInterval: 3_600 } });
    await Promise.all(busy);

    // A witness whose will is due after wd-late-write's would be (3 s against 2 s, dropped later).
    const witness = await deviceWithWill(nodeA, "wd-late-write-witness", 3);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-late-write-witness/status");
    expect(watcher.topics()).toEqual(["devices/wd-late-write-witness/status"]);
    expect(await delayedWill("wd-late-write")).toBeUndefined();
  });

  it("a will delayed on node A, which then stops, is published by node B; with two nodes sweeping, each will is published once", async () => {
    const watcher = await watch(nodeB, "wd-watch-orphan");
    const orphan = await deviceWithWill(nodeA, "wd-orphan", 1);
    drop(orphan);
    await expect.poll(() => delayedWill("wd-orphan")).toMatchObject({ pending: true, node_id: nodeA.fleetwatch.broker.id });
    await stop(nodeA);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-orphan/status"]);
    expect(await delayedWill("wd-orphan")).toBeUndefined();

    // Two live nodes again: the one a device left wakes at its will's due time, and both
    // sweep every 100 ms; the will is claimed by one of them.
    const nodeC = await start(cluster);
    const raced = await deviceWithWill(nodeC, "wd-raced", 1);
    drop(raced);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-raced/status");
    // A last will, due later, bounds the wait for a second copy of either.
    const last = await deviceWithWill(nodeB, "wd-last", 1);
    drop(last);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-last/status");
    expect(watcher.topics()).toEqual(["devices/wd-orphan/status", "devices/wd-raced/status", "devices/wd-last/status"]);
  });
});

describe.skipIf(!redisUrl)("MQTT 5 delayed wills claimed by a node that died, on two nodes sweeping", () => {
  const cluster = { REDIS_URL: redisUrl as string, MQTT_SESSION_SWEEP_MS: "100" };

  it("a will claimed by a node that died is not published while that claim's lease runs, then exactly once by another node", async () => {
    const [nodeA, nodeB] = [await start(cluster), await start(cluster)];
    const watcher = await watch(nodeB, "wd-watch-lease");
    const leaver = await deviceWithWill(nodeA, "wd-lease", 2);
    drop(leaver);
    await expect.poll(() => delayedWill("wd-lease")).toMatchObject({ pending: true });
    // A node (not one of these) claimed it and died: its lease runs for an hour.
    await adminQuery(
      database.url,
      "UPDATE mqtt_delayed_wills SET claimed_until = now() + interval '1 hour', claim_id = gen_random_uuid() WHERE client_id = $1",
      ["wd-lease"],
    );
    const { due_at: due } = (await delayedWill("wd-lease"))!;
    await expect.poll(() => isPast(due), { timeout: 15_000, interval: 200 }).toBe(true);
    // Due, yet held: a witness due later comes first and alone.
    const witness = await deviceWithWill(nodeA, "wd-lease-witness", 1);
    drop(witness);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toEqual(["devices/wd-lease-witness/status"]);
    expect(await delayedWill("wd-lease")).toMatchObject({ pending: false });

    // The lease runs out: one of the two nodes, both sweeping every 100 ms, publishes it.
    await adminQuery(database.url, "UPDATE mqtt_delayed_wills SET claimed_until = now() - interval '1 second' WHERE client_id = $1", [
      "wd-lease",
    ]);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-lease/status");
    await expect.poll(() => delayedWill("wd-lease")).toBeUndefined();
    const last = await deviceWithWill(nodeB, "wd-lease-last", 1);
    drop(last);
    await expect.poll(() => watcher.topics(), { timeout: 15_000 }).toContain("devices/wd-lease-last/status");
    expect(watcher.topics()).toEqual(["devices/wd-lease-witness/status", "devices/wd-lease/status", "devices/wd-lease-last/status"]);
    await stop(nodeA);
    await stop(nodeB);
  });
});

describe.runIf(!redisUrl)("MQTT 5 Will Delay Interval on two nodes (skipped)", () => {
  it.skip("needs TEST_REDIS_URL", () => undefined);
});
