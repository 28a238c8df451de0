// The ingest write path's cost of the pulse's rollups (the triggers on messages of migration
// 20261203130000_message_rollups), isolated from the broker: the real batch statement
// (writeBatch of apps/server/src/ingest/ingest.repository.ts) timed with the triggers enabled
// and disabled, in alternating rounds on one database, so both see the same load.
//
//   BENCH_DATABASE_URL=postgresql://…/<a migrated database> npx tsx --conditions=@fleetwatch/source bench/rollup-cost.bench.ts [batch] [rounds]
//
// Each batch carries `batch` messages (one reading each) from as many distinct devices: the
// rollups' worst case, every message a different device's count row. It writes to the
// database's messages and readings and deletes what it wrote at the end (so do not point it
// at a database whose last day of messages matters: the deletes also pass through the triggers).
import { loadavg } from "node:os";
import pg from "pg";
import { writeBatch, type BatchItem } from "../apps/server/src/ingest/ingest.repository.ts";

const batchSize = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 20);
const batchesPerRound = 10;
const url = process.env.BENCH_DATABASE_URL;
if (!url) throw new Error("BENCH_DATABASE_URL must name a migrated database");

const pool = new pg.Pool({ connectionString: url, max: 2 });
const client = await pool.connect();
const run = `rollup-bench-${Date.now().toString(36)}`;
const batch = (): BatchItem[] =>
  Array.from({ length: batchSize }, (_, i) => ({
    row: {
      receivedAt: new Date(),
      deviceId: `${run}-${i}`,
      topic: `devices/${run}-${i}/telemetry`,
      payload: Buffer.from('{"temp":21.5}'),
      qos: 1 as const,
      retain: false,
      properties: null,
      readings: [{ metric: "temp", time: new Date(), value: 21.5 }],
    },
  }));
const setTriggers = (enabled: boolean) =>
  client.query(`ALTER TABLE messages ${enabled ? "ENABLE" : "DISABLE"} TRIGGER messages_count_inserted`);

const timings: Record<"with" | "without", number[]> = { with: [], without: [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 === 0 ? (["with", "without"] as const) : (["without", "with"] as const)) {
      await setTriggers(mode === "with");
      for (let i = 0; i < batchesPerRound; i++) {
        const started = performance.now();
        await writeBatch(client, batch(), 30_000);
        timings[mode].push(performance.now() - started);
      }
    }
  }
} finally {
  await setTriggers(true);
  await client.query("DELETE FROM messages WHERE device_id LIKE $1", [`${run}-%`]);
  await client.query("DELETE FROM readings WHERE device_id LIKE $1", [`${run}-%`]);
  client.release();
  await pool.end();
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const withMs = median(timings.with);
const withoutMs = median(timings.without);
console.log(
  `batch of ${batchSize} messages from ${batchSize} devices, ${timings.with.length} batches each: ` +
    `median ${withoutMs.toFixed(1)} ms without the rollups, ${withMs.toFixed(1)} ms with them ` +
    `(${(withMs / withoutMs).toFixed(2)} ×; ${((batchSize / withMs) * 1000).toFixed(0)} against ${((batchSize / withoutMs) * 1000).toFixed(0)} msgs/s on one connection); ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);
