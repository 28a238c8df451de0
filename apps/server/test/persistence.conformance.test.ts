// The PostgreSQL broker persistence against aedes-persistence's own conformance suite
// (abstract.js, the suite every aedes persistence must pass), on a real PostgreSQL, plus
// what the suite does not cover: bounded queues, restarts, several nodes, topic matching.
import { createRequire } from "node:module";
import assert from "node:assert";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { PgPersistence, type PersistenceBroker } from "../src/broker/persistence/pg-persistence.ts";
import { guardCheckedOutClients } from "../src/db/database.ts";

const require = createRequire(import.meta.url);
type AbstractSuite = (options: {
  test: unknown;
  persistence: () => Promise<unknown>;
  buildEmitter: () => unknown;
  testAsync: boolean;
}) => void;
const abstractSuite = require("aedes-persistence/abstract.js") as AbstractSuite;
// The suite of the aedes-persistence version the broker itself depends on (aedes 2.0.0-beta.1
// asks for ^10.3.1), resolved from aedes' own package: the interface the broker calls.
const requireFromAedes = createRequire(require.resolve("aedes"));
const brokerPersistenceVersion = (requireFromAedes("aedes-persistence/package.json") as { version: string }).version;
const brokerAbstractSuite = requireFromAedes("aedes-persistence/abstract.js") as AbstractSuite;
const mqemitter = require("mqemitter") as () => {
  emit(packet: object, done?: () => void): void;
  on(topic: string, handler: unknown, done?: () => void): void;
  removeListener(topic: string, handler: unknown, done?: () => void): void;
};

let database: TestDatabase;
let pool: pg.Pool;
const TABLES = "mqtt_retained, mqtt_subscriptions, mqtt_outgoing, mqtt_queue_drops, mqtt_incoming, mqtt_wills";

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  // As the server's pools do: a connection the database ends (the forced drop at the end)
  // must not surface as an unhandled 'error' event.
  pool.on("error", () => undefined);
  guardCheckedOutClients(pool);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

async function freshPersistence(queueLimit = 1000, onDrop?: (clientId: string, dropped: number) => void): Promise<PgPersistence> {
  await pool.query(`TRUNCATE ${TABLES}`);
  return new PgPersistence({ pool, queueLimit, ...(onDrop ? { onDrop } : {}) });
}

/**
 * node:test's TestContext as the suite uses it (plan, assert.*, diagnostic), on vitest:
 * each assertion counts towards the plan, and a test with a plan must make exactly that many.
 */
function nodeTestAdapter(name: string, body: (t: unknown) => Promise<void>) {
  it(name, async () => {
    let planned: number | undefined;
    let made = 0;
    const counted =
      <A extends unknown[]>(check: (...args: A) => void) =>
      (...args: A) => {
        made++;
        check(...args);
      };
    const t = {
      plan: (count: number) => void (planned = count),
      diagnostic: () => undefined,
      assert: {
        equal: counted(assert.equal),
        notEqual: counted(assert.notEqual),
        deepEqual: counted(assert.deepEqual),
        ok: counted(assert.ok),
      },
    };
    await body(t);
    if (planned !== undefined) expect(made, "assertions made against the test's plan").toBe(planned);
  });
}

describe("aedes-persistence conformance suite (abstract.js)", () => {
  abstractSuite({ test: nodeTestAdapter, persistence: () => freshPersistence(), buildEmitter: mqemitter, testAsync: true });
});

describe(`aedes-persistence ${brokerPersistenceVersion} conformance suite (abstract.js), the version aedes depends on`, () => {
  brokerAbstractSuite({ test: nodeTestAdapter, persistence: () => freshPersistence(), buildEmitter: mqemitter, testAsync: true });
});

/** A broker stand-in on one shared emitter: two of them are two nodes bridged by Redis. */
function node(id: string, mq: ReturnType<typeof mqemitter>): PersistenceBroker {
  return {
    id,
    counter: 0,
    publish: (packet, done) => mq.emit(packet, () => done()),
    subscribe: (topic, handler, done) => mq.on(topic, handler, () => done()),
    unsubscribe: (topic, handler, done) => mq.removeListener(topic, handler, () => done()),
  };
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

const publish = (topic: string, payload: string, extra: object = {}) => ({
  cmd: "publish",
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  dup: false,
  ...extra,
});

describe("bounded session queues (SESSION_QUEUE_LIMIT)", () => {
  it("keeps the newest messages and counts the oldest it drops", async () => {
    const drops: [string, number][] = [];
    const persistence = await freshPersistence(3, (clientId, dropped) => drops.push([clientId, dropped]));
    await persistence.setup(node("node-a", mqemitter()));
    for (let i = 1; i <= 5; i++) {
      await persistence.outgoingEnqueueCombi(
        [{ clientId: "sensor-1" }],
        publish("devices/sensor-1/commands/set", `m${i}`, { brokerId: "node-a", brokerCounter: i }),
      );
    }
    const queued = await collect(persistence.outgoingStream({ id: "sensor-1" }));
    expect(queued.map((p) => String(p.payload))).toEqual(["m3", "m4", "m5"]);
    expect(drops).toEqual([
      ["sensor-1", 1],
      ["sensor-1", 1],
    ]);
    const { rows } = await pool.query("SELECT dropped::int FROM mqtt_queue_drops WHERE client_id = 'sensor-1'");
    expect(rows).toEqual([{ dropped: 2 }]);
    await persistence.destroy();
  });

  it("never drops a PUBREL: a QoS 2 exchange in flight can still complete", async () => {
    const persistence = await freshPersistence(2);
    await persistence.setup(node("node-a", mqemitter()));
    await persistence.outgoingEnqueueCombi([{ clientId: "c" }], publish("t", "first", { qos: 2, brokerId: "node-a", brokerCounter: 1 }));
    await persistence.outgoingUpdate(
      { id: "c" },
      { ...publish("t", "first", { qos: 2 }), brokerId: "node-a", brokerCounter: 1, messageId: 7 },
    );
    await persistence.outgoingUpdate({ id: "c" }, { cmd: "pubrel", messageId: 7 });
    for (let i = 2; i <= 4; i++)
      await persistence.outgoingEnqueueCombi([{ clientId: "c" }], publish("t", `m${i}`, { brokerId: "node-a", brokerCounter: i }));
    const queued = await collect(persistence.outgoingStream({ id: "c" }));
    expect(queued.map((p) => p.cmd)).toEqual(["pubrel", "publish", "publish"]);
    expect(queued.slice(1).map((p) => String(p.payload))).toEqual(["m3", "m4"]);
    await persistence.destroy();
  });

  it("queues one copy per client, however many of its subscriptions match", async () => {
    const persistence = await freshPersistence();
    await persistence.setup(node("node-a", mqemitter()));
    await persistence.addSubscriptions({ id: "c" }, [
      { topic: "a/#", qos: 1 },
      { topic: "a/b", qos: 1 },
    ]);
    const subs = await persistence.subscriptionsByTopic("a/b");
    expect(subs).toHaveLength(2);
    await persistence.outgoingEnqueueCombi(subs, publish("a/b", "once", { brokerId: "node-a", brokerCounter: 1 }));
    expect(await collect(persistence.outgoingStream({ id: "c" }))).toHaveLength(1);
    await persistence.destroy();
  });
});

describe("sessions across restarts and nodes", () => {
  it("restores the subscription trie from PostgreSQL when a new instance starts", async () => {
    const first = await freshPersistence();
    await first.setup(node("node-a", mqemitter()));
    await first.addSubscriptions({ id: "d1" }, [
      { topic: "devices/d1/commands/#", qos: 1 },
      { topic: "devices/d1/info", qos: 0 },
    ]);
    await first.destroy();

    const second = new PgPersistence({ pool, queueLimit: 1000 });
    await second.setup(node("node-b", mqemitter()));
    expect(await second.subscriptionsByTopic("devices/d1/commands/reboot")).toMatchObject([
      { clientId: "d1", topic: "devices/d1/commands/#", qos: 1 },
    ]);
    expect(await second.subscriptionsByTopic("devices/d1/info")).toEqual([]);
    expect(await second.countOffline()).toEqual({ subsCount: 1, clientsCount: 1 });
    await second.destroy();
  });

  it("keeps the trie of every node in step through the broker", async () => {
    await pool.query(`TRUNCATE ${TABLES}`);
    const mq = mqemitter();
    const a = new PgPersistence({ pool, queueLimit: 1000 });
    const b = new PgPersistence({ pool, queueLimit: 1000 });
    await a.setup(node("node-a", mq));
    await b.setup(node("node-b", mq));
    await a.addSubscriptions({ id: "d2" }, [{ topic: "devices/d2/commands/+", qos: 2 }]);
    await expect.poll(() => b.subscriptionsByTopic("devices/d2/commands/x")).toMatchObject([{ clientId: "d2", qos: 2 }]);
    await a.cleanSubscriptions({ id: "d2" });
    await expect.poll(() => b.subscriptionsByTopic("devices/d2/commands/x")).toEqual([]);
    await a.destroy();
    await b.destroy();
  });

  it("streams the wills of dead brokers only, and keeps a newer will of the same client", async () => {
    const persistence = await freshPersistence();
    const broker = node("node-a", mqemitter());
    await persistence.setup(broker);
    await persistence.putWill({ id: "d3" }, { topic: "devices/d3/status", payload: Buffer.from("offline"), qos: 1, retain: true });
    broker.id = "node-b";
    await persistence.putWill({ id: "d4" }, { topic: "devices/d4/status", payload: Buffer.from("offline"), qos: 1, retain: true });
    const wills = await collect(persistence.streamWill({ "node-b": Date.now() }));
    expect(wills.map((w) => w.clientId)).toEqual(["d3"]);
    // d4 moved to node-b; node-a, publishing d4's old will, must not delete the new one.
    expect(await persistence.delWill({ id: "d4", brokerId: "node-a" })).toBeUndefined();
    expect(await persistence.getWill({ id: "d4" })).toMatchObject({ brokerId: "node-b" });
    await persistence.destroy();
  });
});

describe("retained messages in PostgreSQL", () => {
  it("matches filters as MQTT does, with regex and LIKE characters in topics taken literally", async () => {
    const persistence = await freshPersistence();
    await persistence.setup(node("node-a", mqemitter()));
    const topics = [
      "devices/d.1/state",
      "devices/d_1/state",
      "devices/dx1/state",
      "devices/d1",
      "devices/d1/a/b",
      "$SYS/x",
      "a%b/c",
      "a/(b)/c",
    ];
    for (const topic of topics)
      await persistence.storeRetained({ cmd: "publish", topic, payload: Buffer.from(topic), qos: 0, retain: true });
    const match = async (...filters: string[]) => (await collect(persistence.createRetainedStreamCombi(filters))).map((p) => p.topic);
    expect(await match("devices/d.1/state")).toEqual(["devices/d.1/state"]);
    expect(await match("devices/d_1/+")).toEqual(["devices/d_1/state"]);
    expect(await match("devices/d1/#")).toEqual(["devices/d1", "devices/d1/a/b"]);
    expect(await match("devices/+/state", "devices/d.1/#")).toEqual(["devices/d.1/state", "devices/d_1/state", "devices/dx1/state"]);
    expect(await match("a%b/#", "a/(b)/+")).toEqual(["a%b/c", "a/(b)/c"]);
    // [MQTT-4.7.2-1]
    expect(await match("#")).not.toContain("$SYS/x");
    expect(await match("$SYS/#")).toEqual(["$SYS/x"]);
    await persistence.destroy();
  });

  it("streams more retained messages than one page, each once, in topic order", async () => {
    const persistence = await freshPersistence();
    await persistence.setup(node("node-a", mqemitter()));
    const topics = Array.from({ length: 250 }, (_, i) => `fleet/${String(i).padStart(3, "0")}`);
    for (const topic of topics) await persistence.storeRetained({ cmd: "publish", topic, payload: "x", qos: 0, retain: true });
    expect((await collect(persistence.createRetainedStreamCombi(["fleet/#", "fleet/+"]))).map((p) => p.topic)).toEqual(topics);
    await persistence.destroy();
  });
});
