// The group-commit writer against a real PostgreSQL: two batches commit at once, and their
// messages are still acknowledged in the order they arrived [MQTT-4.6.0-2].
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { pino } from "pino";
import { IngestWriter } from "../src/ingest/writer.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";
import type { IngestRow } from "../src/ingest/ingest.repository.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";

const DAY = 86_400_000;

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 3 });
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
});
