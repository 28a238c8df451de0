// The PostgreSQL the benchmarks use: BENCH_DATABASE_URL (default: this machine's local
// server), or an embedded PostgreSQL (the product's own zero-config default) when that is
// set to "embedded" or when the default is unreachable. Each run works in fresh databases
// (fw_bench_<ts>_...) and drops them afterwards.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { pino } from "pino";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded-postgres.ts";

export const DEFAULT_BENCH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface BenchPostgres {
  adminUrl: string;
  /** "BENCH_DATABASE_URL", "local default" or "embedded" */
  source: string;
  stop(): Promise<void>;
}

export async function resolvePostgres(env = process.env): Promise<BenchPostgres> {
  const configured = env.BENCH_DATABASE_URL?.trim();
  if (configured && configured !== "embedded") {
    if (!(await reachable(configured))) throw new Error(`BENCH_DATABASE_URL=${redact(configured)} does not answer`);
    return { adminUrl: configured, source: "BENCH_DATABASE_URL", stop: async () => {} };
  }
  if (!configured && (await reachable(DEFAULT_BENCH_DATABASE_URL))) {
    return { adminUrl: DEFAULT_BENCH_DATABASE_URL, source: "local default", stop: async () => {} };
  }
  const dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-bench-pg-"));
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as the postgres user and must enter it
  const embedded = await startEmbeddedPostgres(dataDir, pino({ level: "warn" }), "postgres");
  return {
    adminUrl: embedded.url,
    source: "embedded",
    stop: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function adminQuery(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database fw_bench_<ts>_<suffix> on the benchmark's server. */
export async function createDatabase(postgres: BenchPostgres, suffix: string): Promise<BenchDatabase> {
  const name = `fw_bench_${Date.now()}_${suffix}`.toLowerCase();
  await adminQuery(postgres.adminUrl, `CREATE DATABASE ${quoteIdent(name)}`);
  const url = new URL(postgres.adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await adminQuery(postgres.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}

/** Rows in `table`, or null when the table does not exist. */
export async function countRows(url: string, table: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query<{ oid: string | null }>("SELECT to_regclass($1) AS oid", [table]);
    if (!exists.rows[0]?.oid) return null;
    const result = await client.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${table}`);
    return Number(result.rows[0]?.n);
  } finally {
    await client.end();
  }
}

export type ColumnTypes = Record<string, string>;

/** The data types of `table`'s columns (information_schema names), or null when it does not exist. */
export async function columnTypes(url: string, table: string): Promise<ColumnTypes | null> {
  const result = await adminQuery(
    url,
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
    [table],
  );
  if (result.rows.length === 0) return null;
  return Object.fromEntries(result.rows.map((row: { column_name: string; data_type: string }) => [row.column_name, row.data_type]));
}

export const READING_COLUMNS = ["device_id", "metric", "time", "value"] as const;

/** Why `readings(device_id, metric, time, value)` is unusable, or null when it is fine. */
export function readingsTableProblem(types: ColumnTypes | null): string | null {
  if (!types)
    return "the readings table does not exist in the server's database (it comes with the durable ingest work; this server's migrations do not create it)";
  const missing = READING_COLUMNS.filter((column) => !(column in types));
  return missing.length
    ? `the readings table has no ${missing.join(", ")} column(s); expected readings(device_id, metric, time, value)`
    : null;
}
