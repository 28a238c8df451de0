// Benchmark 4, history: readings bulk-loaded with COPY straight into the server's
// readings(device_id, metric, time, value) table, then the dashboard's two history reads:
// a one-week query of one metric downsampled to 1,000 points, and a one-day CSV export.
import pg from "pg";
import { deviceIds, FleetwatchApi, type ProviderKind } from "@fleetwatch/simulator";
import { log, oneOf, parseScenarioOptions, positiveInt, type OptionSpec } from "../lib/cli.ts";
import { copyInto, encodeCopy } from "../lib/copy.ts";
import { fleetwatchProvider, startFleetwatch } from "../lib/fleetwatch.ts";
import { Histogram } from "../lib/histogram.ts";
import { columnTypes, createDatabase, READING_COLUMNS, readingsTableProblem, resolvePostgres } from "../lib/postgres.ts";
import { METRICS, readingRows } from "../lib/readings-rows.ts";
import { machine, type BenchResult } from "../lib/results.ts";
import { evaluate, TARGETS } from "../lib/targets.ts";
import { maintainPartitions } from "../../apps/server/src/ingest/partitions.ts";

export const historyOptions: OptionSpec = {
  readings: { default: "10000000", describe: "readings to load" },
  devices: { default: "1000", describe: "devices they belong to" },
  days: { default: "14", describe: "days of history they span (the query reads one week)" },
  queries: { default: "200", describe: "requests per measured query" },
  provider: { default: "auto", describe: "how devices and API requests authenticate: auto, api or anonymous" },
};

const DAY = 86_400_000;

export class MissingReadingsTable extends Error {
  override name = "MissingReadingsTable";
}

export async function history(argv: string[]): Promise<BenchResult> {
  const raw = parseScenarioOptions("history", argv, historyOptions);
  const options = {
    readings: positiveInt("readings", raw.readings!),
    devices: positiveInt("devices", raw.devices!),
    days: positiveInt("days", raw.days!, 7),
    queries: positiveInt("queries", raw.queries!),
    provider: oneOf<ProviderKind>("provider", raw.provider!, ["auto", "api", "anonymous"]),
  };
  const startedAt = new Date().toISOString();
  const postgres = await resolvePostgres();
  const database = await createDatabase(postgres, "history");
  const ids = deviceIds("hist", options.devices);
  const samplesPerDevice = Math.max(1, Math.round(options.readings / METRICS.length / options.devices));
  const stepMs = Math.floor((options.days * DAY) / samplesPerDevice);
  const endTime = Math.floor(Date.now() / 60_000) * 60_000;
  const query = new Histogram();
  const csv = new Histogram();
  let loaded: { rows: number; seconds: number };
  let firstFailure: string | undefined;
  let failures = 0;
  let providerKind: string;
  try {
    const server = await startFleetwatch(database.url);
    try {
      const types = await columnTypes(database.url, "readings");
      const problem = readingsTableProblem(types);
      if (problem) throw new MissingReadingsTable(`history cannot run: ${problem}.`);

      const provider = await fleetwatchProvider(server, options.provider);
      providerKind = provider.kind;
      // Registered devices, so that the readings' device ids exist for the API (and any foreign key).
      log(`registering ${options.devices} devices (${provider.kind})`);
      await provider.acquire(ids);

      log(
        `loading ${samplesPerDevice * METRICS.length * options.devices} readings with COPY (${samplesPerDevice} samples per device, every ${Math.round(stepMs / 1000)} s)`,
      );
      // The day partitions a server running through those days would have created (its own
      // maintenance creates them from yesterday on), so the history does not all land in DEFAULT.
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      try {
        for (let day = endTime - options.days * DAY; day < endTime; day += DAY) await maintainPartitions(pool, options.days + 30, day);
      } finally {
        await pool.end();
      }
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const started = performance.now();
        // In time order across devices, as a live fleet's rows arrive.
        await copyInto(
          client,
          "readings",
          READING_COLUMNS,
          encodeCopy(READING_COLUMNS, types!, readingRows(ids, samplesPerDevice, stepMs, endTime, "time")),
        );
        // What autovacuum does to an insert-only table's older pages (autovacuum_vacuum_insert_threshold):
        // statistics, and the visibility map that lets history reads skip the heap.
        await client.query("VACUUM (ANALYZE) readings");
        loaded = { rows: samplesPerDevice * METRICS.length * options.devices, seconds: (performance.now() - started) / 1000 };
      } finally {
        await client.end();
      }
      log(`loaded ${loaded.rows} rows in ${loaded.seconds.toFixed(1)} s`);

      const api = new FleetwatchApi(server.httpUrl, provider.kind === "api" ? server.admin : undefined);
      const headers = provider.kind === "api" ? await api.authHeaders() : {};
      const measure = async (histogram: Histogram, accept: string, span: number, extra: string) => {
        for (let i = 0; i < options.queries; i++) {
          const device = ids[(i * 7919) % ids.length]!;
          const to = endTime - (i % 24) * 3_600_000;
          const params = new URLSearchParams({
            metric: "temperature",
            from: new Date(to - span).toISOString(),
            to: new Date(to).toISOString(),
          });
          const url = `${server.httpUrl}/api/devices/${device}/telemetry?${params.toString()}${extra}`;
          const started = performance.now();
          const response = await fetch(url, { headers: { ...headers, accept } });
          const body = await response.arrayBuffer();
          if (response.status === 200) histogram.record(performance.now() - started);
          else {
            failures++;
            firstFailure ??= `GET ${url} answered ${response.status}: ${Buffer.from(body).toString("utf8").slice(0, 200)}`;
          }
        }
      };
      log(`measuring ${options.queries} one-week queries and ${options.queries} one-day CSV exports`);
      await measure(query, "application/json", 7 * DAY, "&maxPoints=1000");
      await measure(csv, "text/csv", DAY, "");
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop().catch(() => undefined);
    await postgres.stop();
  }

  const q = query.summary();
  const c = csv.summary();
  return {
    name: "history",
    startedAt,
    machine: machine(),
    parameters: {
      readings: loaded.rows,
      devices: options.devices,
      days: options.days,
      sampleEverySeconds: Math.round(stepMs / 1000),
      queries: options.queries,
      provider: providerKind,
      postgres: postgres.source,
    },
    figures: {
      load: { ...loaded, rowsPerSecond: loaded.rows / Math.max(loaded.seconds, 0.001) },
      weekQueryMs: q,
      dayCsvMs: c,
      failures,
      firstFailure,
    },
    tables: [
      {
        title: "History reads",
        columns: ["request", "count", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        rows: [
          ["one week, maxPoints=1000 (JSON)", q.count, q.p50, q.p95, q.p99, q.max],
          ["one day CSV export", c.count, c.p50, c.p95, c.p99, c.max],
        ],
      },
    ],
    targets: [
      evaluate(
        TARGETS.historyQueryP95Ms.describe,
        "p95 one-week query",
        q.p95,
        "<=",
        TARGETS.historyQueryP95Ms.target,
        " ms",
        failures ? `${failures} failed: ${firstFailure}` : undefined,
      ),
    ],
    notes: [
      `Loaded with binary COPY at ${Math.round(loaded.rows / Math.max(loaded.seconds, 0.001))} rows/s (including VACUUM ANALYZE, which autovacuum would have run on past days' partitions), into day partitions, in time order across devices as a live fleet writes them (so one device's week is spread over many pages). Requests run one at a time, cycling through devices and end times.`,
      ...(failures ? [`${failures} requests failed; first: ${firstFailure}`] : []),
    ],
  };
}
