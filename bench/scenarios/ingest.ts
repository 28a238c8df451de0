// Benchmark 1, ingest: N devices publish telemetry (four numbers each) as fast as
// acknowledgements allow, against Fleetwatch and, with the same load in the same run,
// against bare aedes, Mosquitto + a hand-written writer, and raw COPY into PostgreSQL.
import { availableParallelism } from "node:os";
import { deviceIds, type ProviderKind } from "@fleetwatch/simulator";
import { DIY_TABLE, mosquittoVersion, startDiyStack } from "../baselines/mosquitto-diy.ts";
import { startBareAedes } from "../baselines/bare-aedes.ts";
import { runRawCopy, type RawCopyResult } from "../baselines/raw-copy.ts";
import { log, oneOf, parseScenarioOptions, positiveInt, positiveNumber, qosList, sleep, subsetOf, type OptionSpec } from "../lib/cli.ts";
import { fleetwatchProvider, startFleetwatch } from "../lib/fleetwatch.ts";
import { measurePhase, type PhaseResult } from "../lib/phase.ts";
import { countRows, createDatabase, resolvePostgres, type BenchDatabase } from "../lib/postgres.ts";
import { machine, type BenchResult, type Table } from "../lib/results.ts";
import { evaluate, ratio, TARGETS, type TargetResult } from "../lib/targets.ts";

const TARGET_NAMES = ["fleetwatch", "aedes", "diy", "copy"] as const;

export const ingestOptions: OptionSpec = {
  devices: { default: "1000", describe: "simulated devices, one connection each" },
  duration: { default: "30", describe: "seconds of steady-state measurement per target" },
  warmup: { default: "5", describe: "seconds of load before the measurement starts" },
  qos: { default: "1,0", describe: "QoS levels to run, e.g. 1 or 1,0" },
  inflight: { default: "1", describe: "per device: unacknowledged QoS 1 messages, or unconfirmed QoS 0 bursts of 20 (closed loop)" },
  workers: { default: String(availableParallelism()), describe: "load-generator processes" },
  provider: { default: "auto", describe: "Fleetwatch device credentials: auto, api or anonymous" },
  targets: { default: TARGET_NAMES.join(","), describe: "what to measure" },
  "copy-rows": { default: "", describe: "rows for the raw COPY baseline (default: devices × 1000, at least 50,000)" },
};

export async function ingest(argv: string[]): Promise<BenchResult> {
  const raw = parseScenarioOptions("ingest", argv, ingestOptions);
  const options = {
    devices: positiveInt("devices", raw.devices!),
    duration: positiveNumber("duration", raw.duration!),
    warmup: Number(raw.warmup) >= 0 ? Number(raw.warmup) : positiveNumber("warmup", raw.warmup!),
    qos: qosList("qos", raw.qos!),
    inflight: positiveInt("inflight", raw.inflight!),
    workers: positiveInt("workers", raw.workers!),
    provider: oneOf<ProviderKind>("provider", raw.provider!, ["auto", "api", "anonymous"]),
    targets: subsetOf("targets", raw.targets!, TARGET_NAMES),
    copyRows: raw["copy-rows"] ? positiveInt("copy-rows", raw["copy-rows"]) : Math.max(50_000, positiveInt("devices", raw.devices!) * 1000),
  };
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const ids = deviceIds("bench", options.devices);
  const phases: PhaseResult[] = [];
  const settings = (qos: 0 | 1) => ({
    qos,
    mode: { kind: "max", inflight: options.inflight } as const,
    workers: options.workers,
    warmupSeconds: options.warmup,
    durationSeconds: options.duration,
  });

  const postgres = await resolvePostgres();
  log(`PostgreSQL: ${postgres.source}`);
  const databases: BenchDatabase[] = [];
  let copyDatabase: { url: string; table: string } | undefined;
  let copy: RawCopyResult | undefined;
  let provider = "n/a";
  try {
    for (const qos of options.qos) {
      if (options.targets.includes("fleetwatch")) {
        const database = await createDatabase(postgres, `fw_q${qos}`);
        databases.push(database);
        const server = await startFleetwatch(database.url);
        try {
          const credentials = await fleetwatchProvider(server, options.provider);
          provider = credentials.kind;
          const { credentials: list } = await credentials.acquire(ids);
          const hasReadings = (await countRows(database.url, "readings")) !== null;
          if (!hasReadings)
            notes.push(
              "Fleetwatch's database has no readings table yet (durable ingest not merged): its rows/s cannot be counted and its PUBACKs are not yet durable.",
            );
          else if (qos === 1) copyDatabase = { url: database.url, table: "readings" };
          phases.push(
            await measurePhase(
              {
                name: "fleetwatch",
                host: server.mqtt.host,
                port: server.mqtt.port,
                credentials: list,
                processes: [{ label: "server", pid: server.process.pid }],
                ...(hasReadings ? { countRows: () => countRows(database.url, "readings") } : {}),
              },
              settings(qos),
            ),
          );
        } finally {
          await server.stop();
        }
        await sleep(1_000);
      }
      if (options.targets.includes("aedes")) {
        const aedes = await startBareAedes();
        try {
          phases.push(
            await measurePhase(
              {
                name: "bare aedes",
                host: "127.0.0.1",
                port: aedes.port,
                credentials: ids.map((id) => ({ deviceId: id, clientId: id })),
                processes: [{ label: "broker", pid: aedes.process.pid }],
              },
              settings(qos),
            ),
          );
        } finally {
          await aedes.stop();
        }
        await sleep(1_000);
      }
      if (options.targets.includes("diy")) {
        if (!mosquittoVersion()) {
          if (!notes.some((n) => n.startsWith("mosquitto")))
            notes.push("mosquitto is not installed: the do-it-yourself baseline was skipped (apt-get install mosquitto).");
        } else {
          const database = await createDatabase(postgres, `diy_q${qos}`);
          databases.push(database);
          const stack = await startDiyStack(database.url, qos);
          try {
            phases.push(
              await measurePhase(
                {
                  name: "mosquitto + writer",
                  host: "127.0.0.1",
                  port: stack.port,
                  credentials: ids.map((id) => ({ deviceId: id, clientId: id })),
                  processes: [
                    { label: "mosquitto", pid: stack.mosquitto.pid },
                    { label: "writer", pid: stack.writer.pid },
                  ],
                  countRows: () => countRows(database.url, DIY_TABLE),
                  output: () => `${stack.mosquitto.output()}${stack.writer.output()}`,
                },
                settings(qos),
              ),
            );
            if (!notes.some((n) => n.startsWith("DIY")))
              notes.push(
                `DIY stack: Mosquitto ${stack.version} + one MQTT.js subscriber writing batched INSERTs (unnest) to a table with one index; it acknowledges nothing durably.`,
              );
          } finally {
            await stack.stop();
          }
        }
      }
    }
    if (options.targets.includes("copy")) {
      if (!copyDatabase) {
        const database = await createDatabase(postgres, "copy");
        databases.push(database);
        copyDatabase = { url: database.url, table: "copy_readings" };
      }
      log(`raw COPY: ${options.copyRows} rows into ${copyDatabase.table}`);
      copy = await runRawCopy(copyDatabase.url, { table: copyDatabase.table, deviceIds: ids, rows: options.copyRows });
      log(`raw COPY: ${Math.round(copy.rowsPerSecond)} rows/s (${copy.rows} rows in ${copy.seconds.toFixed(2)} s)`);
      notes.push(
        `Raw COPY: binary COPY of ${copy.rows} rows into ${copy.table === "readings" ? "Fleetwatch's own readings table" : "a plain table of the same four columns with one index (Fleetwatch has no readings table yet)"}, encoded before timing.`,
      );
    }
  } finally {
    for (const database of databases)
      await database.drop().catch((error: Error) => log(`could not drop ${database.name}: ${error.message}`));
    await postgres.stop();
  }

  const find = (target: string, qos: 0 | 1) => phases.find((p) => p.target === target && p.qos === qos);
  const targets: TargetResult[] = [];
  const ratios: Record<string, number | null> = {};
  for (const qos of options.qos) {
    const fw = find("fleetwatch", qos);
    const aedes = find("bare aedes", qos);
    const diy = find("mosquitto + writer", qos);
    ratios[`q${qos}.fleetwatch/bare-aedes msgs/s`] = ratio(fw?.msgsPerSecond, aedes?.msgsPerSecond);
    ratios[`q${qos}.fleetwatch/diy rows/s`] = ratio(fw?.rowsPerSecond, diy?.rowsPerSecond);
    ratios[`q${qos}.fleetwatch/copy rows/s`] = ratio(fw?.rowsPerSecond, copy?.rowsPerSecond);
    if (qos !== 1) continue;
    const noRows = fw && fw.rowsPerSecond === null ? "no readings table" : undefined;
    targets.push(
      evaluate(
        TARGETS.ingestVsBareAedes.describe,
        "fleetwatch / bare aedes, QoS 1 acked msgs/s",
        ratios["q1.fleetwatch/bare-aedes msgs/s"],
        ">=",
        TARGETS.ingestVsBareAedes.target,
        "×",
      ),
    );
    targets.push(
      evaluate(
        TARGETS.ingestVsDiy.describe,
        "fleetwatch / DIY, QoS 1 rows/s",
        ratios["q1.fleetwatch/diy rows/s"],
        ">=",
        TARGETS.ingestVsDiy.target,
        "×",
        noRows ?? (diy ? undefined : "DIY not measured"),
      ),
    );
    targets.push(
      evaluate(
        TARGETS.ingestVsCopy.describe,
        "fleetwatch / raw COPY, QoS 1 rows/s",
        ratios["q1.fleetwatch/copy rows/s"],
        ">=",
        TARGETS.ingestVsCopy.target,
        "×",
        noRows,
      ),
    );
  }

  const cpu = (p: PhaseResult) => Object.values(p.usage).reduce((sum, u) => sum + (u.cpuPercent ?? 0), 0);
  const rss = (p: PhaseResult) => Object.values(p.usage).reduce((sum, u) => sum + (u.rssPeakMb ?? 0), 0);
  const tables: Table[] = [
    {
      title: "Throughput (steady state)",
      columns: ["target", "QoS", "msgs/s", "rows/s", "ack p50 ms", "ack p99 ms", "CPU %", "peak RSS MB", "errors"],
      rows: [
        ...phases.map((p) => [
          p.target,
          p.qos,
          p.msgsPerSecond,
          p.rowsPerSecond,
          p.qos === 1 ? p.ackLatencyMs.p50 : null,
          p.qos === 1 ? p.ackLatencyMs.p99 : null,
          cpu(p),
          rss(p),
          p.errors + p.disconnects,
        ]),
        ...(copy ? [["raw COPY", "-", null, copy.rowsPerSecond, null, null, null, null, 0]] : []),
      ],
    },
    { title: "Ratios", columns: ["ratio", "value"], rows: Object.entries(ratios).map(([name, value]) => [name, value]) },
  ];
  notes.push(
    "msgs/s: acknowledged messages per second at QoS 1; at QoS 0, messages the broker confirmed reading per second (each client sends a burst of 20, then a PINGREQ, and waits for the PINGRESP: without it a client outruns the broker and counts messages still sitting in socket buffers). CPU % is of one core, summed over the target's processes (Fleetwatch: the server process; PostgreSQL's own CPU is not included for any target).",
    `Load: ${options.devices} devices in ${options.workers} load-generator processes, ${options.inflight} message(s) in flight per device; Fleetwatch credentials: ${provider}.`,
  );
  return {
    name: "ingest",
    startedAt,
    machine: machine(),
    parameters: {
      devices: options.devices,
      durationSeconds: options.duration,
      warmupSeconds: options.warmup,
      qos: options.qos,
      inflight: options.inflight,
      workers: options.workers,
      provider,
      postgres: postgres.source,
      copyRows: options.copyRows,
    },
    figures: { phases, copy, ratios },
    tables,
    targets,
    notes: [...new Set(notes)],
  };
}
