// The group-commit writer against a real PostgreSQL: two batches commit at once, and their
// messages are still acknowledged in the order they arrived [MQTT-4.6.0-2]; a row the
// database rejects is isolated and refused, and never holds up the rest.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { pino } from "pino";
import { IngestRefusedError, IngestWriter } from "../src/ingest/writer.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";
import { guardCheckedOutClients } from "../src/db/database.ts";
import type { IngestRow } from "../src/ingest/ingest.repository.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";

const DAY = 86_400_000;

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
  // pool.end() resolves once it has asked its connections to close, not once they have: the
  // database's drop right after (WITH FORCE) may terminate one first, and that connection's
  // error must not become an uncaught exception of the test run. An idle connection's error
  // reaches the pool's own 'error' event (pg re-emits it there), a checked-out one's the client's.
  pool.on("error", () => undefined);
  guardCheckedOutClients(pool);
  await maintainPartitions(pool, 30);
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const row = (deviceId: string, time: Date): IngestRow => ({
  receivedAt: new Date(),
  deviceId,
  topic: `devices/${deviceId}/telemetry`,
  payload: Buffer.from(JSON.stringify({ temp: 1, ts: time.getTime() })),
  qos: 1,
  retain: false,
  properties: null,
  readings: [{ metric: "temp", time, value: 1 }],
});

const stored = async (deviceId: string) => (await pool.query("SELECT 1 FROM messages WHERE device_id = $1", [deviceId])).rowCount === 1;

describe("the ingest writer", () => {
  it("acknowledges in arrival order even when a later batch commits first", async () => {
    const writer = new IngestWriter(
      pool,
      { batchMax: 1, lingerMs: 0, qos0Buffer: 100, commitTimeoutMs: 20_000 },
      pino({ level: "silent" }),
    );
    const today = new Date();
    const tomorrow = new Date(Date.now() + DAY);
    // Hold the first message's readings partition, so its batch waits inside the database.
    const blocker = await pool.connect();
    const partition = `readings_p${today.toISOString().slice(0, 10).replace(/-/g, "")}`;
    await blocker.query("BEGIN");
    await blocker.query(`LOCK TABLE ${partition} IN SHARE MODE`);
    const acked: string[] = [];
    try {
      const first = writer.write(row("order-first", today)).then(() => acked.push("first"));
      const second = writer.write(row("order-second", tomorrow)).then(() => acked.push("second"));
      // The second batch commits on the other connection while the first waits for the lock...
      for (let i = 0; i < 200 && !(await stored("order-second")); i++) await new Promise((r) => setTimeout(r, 25));
      expect(await stored("order-second")).toBe(true);
      expect(await stored("order-first")).toBe(false);
      // ...but is not acknowledged before the first.
      await new Promise((r) => setTimeout(r, 100));
      expect(acked).toEqual([]);
      await blocker.query("COMMIT");
      await Promise.all([first, second]);
      expect(acked).toEqual(["first", "second"]);
      expect(await stored("order-first")).toBe(true);
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      blocker.release();
      await writer.close();
    }
  });

  it("splits a batch the database rejects: the other messages commit, a QoS 1 offender is refused, a QoS 0 one dropped and counted", async () => {
    // Test-only constraint: a real class 23 error (check_violation) for one exact payload.
    await pool.query("ALTER TABLE messages ADD CONSTRAINT poison_for_test CHECK (payload <> '\\x706f69736f6e'::bytea)");
    const writer = new IngestWriter(
      pool,
      // A long linger and a large batch: everything below goes into one batch.
      { batchMax: 100, lingerMs: 200, qos0Buffer: 100, commitTimeoutMs: 20_000 },
      pino({ level: "silent" }),
    );
    const now = new Date();
    const poisoned = (deviceId: string, change: Partial<IngestRow>): IngestRow => ({ ...row(deviceId, now), ...change });
    try {
      const results = await Promise.allSettled([
        writer.write(row("split-good-1", now)),
        // U+0000 in text: PostgreSQL answers 22021 (character_not_in_repertoire).
        writer.write(poisoned("split-bad-topic", { topic: "devices/split-bad-topic/a\u0000b" })),
        writer.write(row("split-good-2", now)),
        writer.write(poisoned("split-bad-check", { payload: Buffer.from("poison") })),
        writer.write(row("split-good-3", now)),
      ]);
      writer.buffer(poisoned("split-bad-qos0", { qos: 0, readings: [{ metric: "a\u0000b", time: now, value: 1 }] }));
      writer.buffer({ ...row("split-good-qos0", now), qos: 0 });
      // A later QoS 1 message settles after everything queued before it.
      await writer.write(row("split-after", now));

      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
      const refusals = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
      expect(refusals.every((error) => error instanceof IngestRefusedError)).toBe(true);
      expect(refusals.map((error) => (error as IngestRefusedError).code)).toEqual(["22021", "23514"]);
      for (const id of ["split-good-1", "split-good-2", "split-good-3", "split-good-qos0", "split-after"])
        expect(await stored(id)).toBe(true);
      for (const id of ["split-bad-topic", "split-bad-check", "split-bad-qos0"]) expect(await stored(id)).toBe(false);
      expect(writer.stats().rejected).toEqual({ "22021": 2, "23514": 1 });
      expect(writer.oldestWaitingMs()).toBe(0);
    } finally {
      await writer.close();
      await pool.query("ALTER TABLE messages DROP CONSTRAINT poison_for_test");
    }
  });
});
