// Baseline (b): the do-it-yourself stack a user would otherwise build: a Mosquitto broker
// plus a small MQTT.js subscriber that writes batches of readings to PostgreSQL. It
// acknowledges nothing durably: Mosquitto's PUBACK only means Mosquitto has the message.
// Run directly with "writer" it is that subscriber; imported, startDiyStack() runs both.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import pg from "pg";
import { parseDeviceTopic, parseTelemetry } from "@fleetwatch/contracts";
import { freePort } from "../lib/ports.ts";
import { spawnTarget, tsNode, type TargetProcess } from "../lib/processes.ts";

const self = fileURLToPath(import.meta.url);
export const DIY_TABLE = "diy_readings";

export function mosquittoVersion(): string | null {
  try {
    const text = execFileSync("mosquitto", ["-h"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return /mosquitto version (\S+)/.exec(text)?.[1] ?? "unknown";
  } catch (error) {
    // `mosquitto -h` exits 3 after printing its usage; only a missing binary is "not installed".
    const output = String((error as { stdout?: string }).stdout ?? "");
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    return /mosquitto version (\S+)/.exec(output)?.[1] ?? "unknown";
  }
}

export interface DiyStack {
  mosquitto: TargetProcess;
  writer: TargetProcess;
  port: number;
  version: string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        done(true);
      });
      socket.on("error", () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs / 1000} s`);
}

export async function startDiyStack(databaseUrl: string, qos: 0 | 1): Promise<DiyStack> {
  const version = mosquittoVersion();
  if (!version) throw new Error("mosquitto is not installed");
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "fleetwatch-bench-mosquitto-"));
  const config = join(dir, "mosquitto.conf");
  await writeFile(
    config,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      // A slow subscriber must not make Mosquitto drop its queued messages mid-run.
      "max_queued_messages 1000000",
      "set_tcp_nodelay true",
      "persistence false",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "",
    ].join("\n"),
  );
  const mosquitto = spawnTarget("mosquitto", "mosquitto", ["-c", config]);
  try {
    await waitForPort(port, 15_000);
  } catch (error) {
    await mosquitto.stop(1_000);
    throw new Error(`mosquitto did not start: ${(error as Error).message}\n${mosquitto.output()}`, { cause: error });
  }
  const [command, args] = tsNode(self, ["writer", String(port), databaseUrl, String(qos)]);
  const writer = spawnTarget("diy writer", command, [...args]);
  await writer.waitForOutput(/diy writer ready/, 60_000);
  return {
    mosquitto,
    writer,
    port,
    version,
    async stop() {
      await writer.stop();
      await mosquitto.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The hand-written writer: subscribe, parse, batch, INSERT. */
async function runWriter(port: number, databaseUrl: string, qos: 0 | 1): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${DIY_TABLE} (device_id text NOT NULL, metric text NOT NULL, time timestamptz NOT NULL, value double precision NOT NULL)`,
  );
  await pool.query(`CREATE INDEX IF NOT EXISTS ${DIY_TABLE}_device_metric_ts ON ${DIY_TABLE} (device_id, metric, time)`);

  const BATCH = 5_000;
  const devices: string[] = [];
  const metrics: string[] = [];
  const times: Date[] = [];
  const values: number[] = [];
  let flushing = false;
  const flush = async () => {
    if (flushing || devices.length === 0) return;
    flushing = true;
    // At most BATCH rows per INSERT, as a careful hand-written writer would: one huge
    // statement after a backlog would commit nothing for seconds.
    const batch = [devices.splice(0, BATCH), metrics.splice(0, BATCH), times.splice(0, BATCH), values.splice(0, BATCH)];
    try {
      await pool.query(
        `INSERT INTO ${DIY_TABLE} (device_id, metric, time, value) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])`,
        batch,
      );
    } catch (error) {
      console.error(`diy writer: insert failed: ${(error as Error).message}`);
    } finally {
      flushing = false;
    }
    if (devices.length >= 2_000) void flush();
  };
  setInterval(() => void flush(), 100);

  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "diy-writer", clean: true, reconnectPeriod: 1_000 });
  client.on("message", (topic, payload) => {
    const parsed = parseDeviceTopic(topic);
    const telemetry = parsed ? parseTelemetry(payload, new Date()) : undefined;
    if (!parsed || !telemetry?.ok) return;
    for (const reading of telemetry.readings) {
      devices.push(parsed.deviceId);
      metrics.push(reading.metric);
      times.push(telemetry.time);
      values.push(reading.value);
    }
    if (devices.length >= 2_000) void flush();
  });
  await client.subscribeAsync("devices/+/telemetry", { qos });
  console.log("diy writer ready");
  const stop = async () => {
    await client.endAsync().catch(() => undefined);
    while (flushing || devices.length) await flush();
    await pool.end();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}

if (process.argv[1] && resolve(process.argv[1]) === self && process.argv[2] === "writer") {
  await runWriter(Number(process.argv[3]), process.argv[4]!, Number(process.argv[5]) as 0 | 1);
}
