// The rollups the overview's pulse reads (message_rate, device_message_counts) always equal
// the messages log's own counts: whatever mix of batches, concurrent writers (two nodes
// writing the same buckets), rolled-back batches (a crash before the commit) and deletes
// reaches the log. Against a real PostgreSQL with the migrations applied.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { rollupMismatches } from "../../../test/support/rollups.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";

let database: TestDatabase;
let writers: [pg.Client, pg.Client];
const MIN = 60_000;
/** A fixed hour, so minutes and five-minute buckets are shared by the batches the property draws. */
const BASE = Date.UTC(2026, 10, 30, 12, 0, 0);

beforeAll(async () => {
  database = await createTestDatabase();
  writers = [new pg.Client({ connectionString: database.url }), new pg.Client({ connectionString: database.url })];
  await Promise.all(writers.map((client) => client.connect()));
});
afterAll(async () => {
  await Promise.all(writers.map((client) => client.end()));
  await database.drop();
});

interface Batch {
  writer: 0 | 1;
  /** Each message: a device and its offset from BASE in seconds (within 20 minutes). */
  messages: { device: string; second: number }[];
  /** Rolled back instead of committed, as a batch is when its node dies before the commit. */
  rolledBack: boolean;
}

/** Ingest's shape: one multi-row INSERT per batch, in a transaction when it may roll back. */
async function write(client: pg.Client, batch: Batch): Promise<void> {
  const insert = () =>
    client.query(
      `INSERT INTO messages (received_at, device_id, topic, payload, qos, retain)
       SELECT to_timestamp($1::float8 + s), d, 'devices/' || d || '/telemetry', '\\x7b7d', 0, false
         FROM unnest($2::text[], $3::int[]) AS m(d, s)`,
      [BASE / 1000, batch.messages.map((m) => m.device), batch.messages.map((m) => m.second)],
    );
  if (!batch.rolledBack) {
    await insert();
    return;
  }
  await client.query("BEGIN");
  await insert();
  await client.query("ROLLBACK");
}

// Device ids: a few, so batches share buckets, including ids that sort differently by
// byte and by collation and one outside the BMP.
const device = fc.constantFrom("dev-a", "dev-B", "dev_c", "dev-é", "dev-𝔡");
const batch: fc.Arbitrary<Batch> = fc.record({
  writer: fc.constantFrom(0 as const, 1 as const),
  messages: fc.array(fc.record({ device, second: fc.integer({ min: 0, max: 20 * 60 - 1 }) }), { minLength: 1, maxLength: 40 }),
  // One batch in five rolled back.
  rolledBack: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
});

describe("the messages rollups", () => {
  it("equal the log's counts per minute and per device per five minutes after any concurrent batches, rollbacks and deletes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(batch, { minLength: 1, maxLength: 12 }),
        fc.option(fc.record({ device, fromSecond: fc.integer({ min: 0, max: 20 * 60 }) }), { nil: undefined }),
        async (batches, deletion) => {
          await adminQuery(database.url, "TRUNCATE messages");
          // The two writers run their batches at the same time, as two nodes do.
          await Promise.all(
            ([0, 1] as const).map(async (w) => {
              for (const b of batches.filter((b) => b.writer === w)) await write(writers[w], b);
            }),
          );
          if (deletion) {
            await adminQuery(database.url, "DELETE FROM messages WHERE device_id = $1 AND received_at >= to_timestamp($2::float8)", [
              deletion.device,
              BASE / 1000 + deletion.fromSecond,
            ]);
          }
          expect(await rollupMismatches(database.url)).toEqual([]);
          const committed = batches.filter((b) => !b.rolledBack).reduce((n, b) => n + b.messages.length, 0);
          const { rows } = await adminQuery(database.url, "SELECT count(*)::int AS n FROM messages");
          expect(rows[0].n).toBeLessThanOrEqual(committed);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("are emptied with the log by TRUNCATE", async () => {
    await write(writers[0], { writer: 0, messages: [{ device: "dev-a", second: 5 }], rolledBack: false });
    await adminQuery(database.url, "TRUNCATE messages");
    const { rows } = await adminQuery(
      database.url,
      "SELECT (SELECT count(*) FROM message_rate)::int AS rate, (SELECT count(*) FROM device_message_counts)::int AS devices",
    );
    expect(rows[0]).toEqual({ rate: 0, devices: 0 });
  });

  it("keep a day: the hourly maintenance removes older rows and leaves the last day's", async () => {
    await adminQuery(database.url, "TRUNCATE messages");
    const now = Date.now();
    for (const ago of [2 * 86_400_000, 25 * 3_600_000, 23 * 3_600_000, 10 * MIN]) {
      await adminQuery(
        database.url,
        `INSERT INTO messages (received_at, device_id, topic, payload, qos, retain) VALUES ($1, 'dev-a', 'devices/dev-a/telemetry', '\\x7b7d', 0, false)`,
        [new Date(now - ago)],
      );
    }
    const pool = new pg.Pool({ connectionString: database.url });
    try {
      const result = await maintainPartitions(pool, 30, now);
      expect(result.expiredRollupRows).toBe(4); // two old minutes and two old five-minute buckets
    } finally {
      await pool.end();
    }
    const { rows } = await adminQuery(
      database.url,
      "SELECT (SELECT sum(messages) FROM message_rate)::int AS rate, (SELECT sum(messages) FROM device_message_counts)::int AS devices",
    );
    expect(rows[0]).toEqual({ rate: 2, devices: 2 });
  });
});
