// Day partitions of the telemetry logs: created ahead of time, dropped after the retention
// period. Dropping a whole partition is instant and leaves no dead rows to vacuum, where a
// DELETE of a month-old day would rewrite the table.
//
// Several nodes may run this at once against one database: each run holds a transaction-
// scoped advisory lock, and every step checks the catalog first, so a second node finds the
// work done. Locks are bounded by lock_timeout, so maintenance waits briefly for a busy table
// and retries on the next run rather than queueing ahead of (and blocking) the ingest writes.
import type pg from "pg";
import { withTransaction } from "../db/transaction.ts";

/** The partitioned tables, each with the column it is partitioned on. */
const TABLES = [
  { table: "messages", column: "received_at" },
  { table: "readings", column: "time" },
] as const;

/** Days ahead of today that always have a partition, so midnight never lands in DEFAULT. */
const DAYS_AHEAD = 3;
/** Arbitrary, fixed: the advisory lock key that serialises maintenance across nodes. */
const ADVISORY_LOCK_KEY = 4_242_001;
/**
 * The rollups of messages (kept by triggers on messages, migration
 * 20261203130000_message_rollups) and their time columns. Their only reader, the overview's
 * pulse, looks back an hour: a day of them bounds their size whatever the log's retention.
 */
const ROLLUPS = [
  { table: "message_rate", column: "minute" },
  { table: "device_message_counts", column: "bucket" },
] as const;
const ROLLUP_KEEP_MS = 86_400_000;
const PARTITION_NAME = /^(messages|readings)_p(\d{4})(\d{2})(\d{2})$/;

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
  /** Rows removed from the DEFAULT partitions for being older than the retention period. */
  expiredDefaultRows: number;
  /** Rollup rows removed for being older than ROLLUP_KEEP_MS. */
  expiredRollupRows: number;
}

const DAY_MS = 86_400_000;
const startOfDayUtc = (time: number) => Math.floor(time / DAY_MS) * DAY_MS;
const dayName = (table: string, day: number) => `${table}_p${new Date(day).toISOString().slice(0, 10).replace(/-/g, "")}`;

/**
 * Makes sure the day partitions from yesterday to DAYS_AHEAD days ahead exist, and drops
 * those entirely older than `retentionDays`. Idempotent.
 */
export async function maintainPartitions(pool: pg.Pool, retentionDays: number, now = Date.now()): Promise<MaintenanceResult> {
  const result: MaintenanceResult = { created: [], dropped: [], expiredDefaultRows: 0, expiredRollupRows: 0 };
  return withTransaction(pool, async (client) => {
    await client.query("SET LOCAL lock_timeout = '5s'");
    await client.query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_LOCK_KEY]);
    const today = startOfDayUtc(now);
    const cutoff = today - retentionDays * DAY_MS;

    for (const { table, column } of TABLES) {
      const existing = await listPartitions(client, table);
      for (let day = today - DAY_MS; day <= today + DAYS_AHEAD * DAY_MS; day += DAY_MS) {
        if (day < cutoff) continue;
        const name = dayName(table, day);
        if (existing.has(name)) continue;
        await createDayPartition(client, table, column, name, day);
        result.created.push(name);
      }
      for (const [name, day] of existing) {
        // A day partition holds [day, day + 1); it is expired once all of it is older than the cutoff.
        if (day + DAY_MS <= cutoff) {
          await client.query(`ALTER TABLE ${table} DETACH PARTITION ${name}`);
          await client.query(`DROP TABLE ${name}`);
          result.dropped.push(name);
        }
      }
      // The DEFAULT partition only holds rows with unusual times; it stays small, so a
      // bounded DELETE there is cheap.
      const expired = await client.query(`DELETE FROM ${table}_default WHERE ${column} < $1`, [new Date(cutoff)]);
      result.expiredDefaultRows += expired.rowCount ?? 0;
    }
    // An hour's worth of rows each run (this runs hourly): past buckets are never written
    // again, so the DELETE waits on no ingest batch.
    for (const { table, column } of ROLLUPS) {
      const expired = await client.query(`DELETE FROM ${table} WHERE ${column} < $1`, [new Date(now - ROLLUP_KEEP_MS)]);
      result.expiredRollupRows += expired.rowCount ?? 0;
    }
    return result;
  });
}

/** The table's day partitions, by name, with the start of their day (epoch ms, UTC). */
async function listPartitions(client: pg.PoolClient, table: string): Promise<Map<string, number>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE p.relname = $1 AND n.nspname = current_schema()`,
    [table],
  );
  const partitions = new Map<string, number>();
  for (const { name } of rows) {
    const match = PARTITION_NAME.exec(name);
    if (match?.[1] === table) partitions.set(name, Date.UTC(Number(match[2]), Number(match[3]) - 1, Number(match[4])));
  }
  return partitions;
}

/**
 * Creates the day's partition standalone, moves in any rows the DEFAULT partition holds for
 * that day (a device whose clock ran ahead), then attaches it. ATTACH needs only a SHARE
 * UPDATE EXCLUSIVE lock on the parent, so ingest keeps writing meanwhile; CREATE TABLE ...
 * PARTITION OF would take an exclusive one. The names are built here from a date, never
 * from input.
 */
async function createDayPartition(client: pg.PoolClient, table: string, column: string, name: string, day: number): Promise<void> {
  const from = new Date(day).toISOString();
  const to = new Date(day + DAY_MS).toISOString();
  await client.query(`CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
  // The partition bound as a CHECK constraint lets ATTACH skip scanning the new table.
  await client.query(`ALTER TABLE ${name} ADD CONSTRAINT ${name}_bound CHECK (${column} >= '${from}' AND ${column} < '${to}')`);
  await client.query(
    `WITH moved AS (DELETE FROM ${table}_default WHERE ${column} >= $1 AND ${column} < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`,
    [from, to],
  );
  await client.query(`ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
  await client.query(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_bound`);
}

/** Runs `run` every `intervalMs`, one run at a time; a failed run is retried at the next tick. */
export function schedulePartitionMaintenance(run: () => Promise<unknown>, intervalMs: number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(run).catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
