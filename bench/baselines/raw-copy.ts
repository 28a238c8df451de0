// Baseline (c): the physical limit. The same kind of rows (four readings per sample) COPYed
// in binary straight into PostgreSQL: Fleetwatch's readings table when it exists (the same
// table, indexes and partitions the server writes), else a plain table of the same columns.
// The COPY stream is encoded before the clock starts, so only PostgreSQL's work is timed.
import pg from "pg";
import { copyInto, encodeCopy } from "../lib/copy.ts";
import { columnTypes, READING_COLUMNS } from "../lib/postgres.ts";
import { readingRows } from "../lib/readings-rows.ts";

export interface RawCopyResult {
  table: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

export async function runRawCopy(
  databaseUrl: string,
  options: { table: string; deviceIds: string[]; rows: number },
): Promise<RawCopyResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let types = await columnTypes(databaseUrl, options.table);
    if (!types) {
      await client.query(
        `CREATE TABLE ${options.table} (device_id text NOT NULL, metric text NOT NULL, time timestamptz NOT NULL, value double precision NOT NULL)`,
      );
      await client.query(`CREATE INDEX ON ${options.table} (device_id, metric, time)`);
      types = (await columnTypes(databaseUrl, options.table))!;
    }
    const samplesPerDevice = Math.max(1, Math.ceil(options.rows / 4 / options.deviceIds.length));
    // Timestamps a year back, one second apart: distinct from anything a run published just now.
    const chunks = [
      ...encodeCopy(READING_COLUMNS, types, readingRows(options.deviceIds, samplesPerDevice, 1_000, Date.now() - 365 * 86_400_000)),
    ];
    const rows = samplesPerDevice * 4 * options.deviceIds.length;
    const started = performance.now();
    await copyInto(client, options.table, READING_COLUMNS, chunks);
    const seconds = (performance.now() - started) / 1000;
    return { table: options.table, rows, seconds, rowsPerSecond: rows / seconds };
  } finally {
    await client.end();
  }
}
