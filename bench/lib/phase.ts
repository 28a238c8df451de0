// One measured load phase against one target: connect the load, warm up, then measure a
// steady-state window (acknowledged messages, latency, rows written, the target's CPU and
// memory), the same way for Fleetwatch and for every baseline.
import type { DeviceCredentials } from "@fleetwatch/simulator";
import { log, sleep } from "./cli.ts";
import type { LatencySummary } from "./histogram.ts";
import { LoadGenerator } from "./load-generator.ts";
import { ProcessMonitor, type ProcessUsage } from "./process-stats.ts";
import type { LoadMode } from "./protocol.ts";

export interface PhaseTarget {
  name: string;
  host: string;
  port: number;
  credentials: DeviceCredentials[];
  /** The processes whose CPU and memory count as the target's. */
  processes: { label: string; pid: number }[];
  /** Output of the target's processes, for diagnosis when something looks wrong. */
  output?: () => string;
  /** Rows stored so far, or null when the target stores none that can be counted. */
  countRows?: () => Promise<number | null>;
}

export interface PhaseSettings {
  qos: 0 | 1;
  mode: LoadMode;
  workers: number;
  warmupSeconds: number;
  durationSeconds: number;
  keepaliveSeconds?: number;
  seed?: number;
}

export interface PhaseResult {
  target: string;
  qos: 0 | 1;
  connected: number;
  connectFailures: number;
  seconds: number;
  sent: number;
  acked: number;
  /** QoS 1: acknowledged messages per second; QoS 0: messages the broker confirmed reading per second. */
  msgsPerSecond: number;
  rows: number | null;
  rowsPerSecond: number | null;
  ackLatencyMs: LatencySummary;
  errors: number;
  skipped: number;
  disconnects: number;
  usage: Record<string, ProcessUsage>;
  firstError?: string;
}

export async function measurePhase(target: PhaseTarget, settings: PhaseSettings): Promise<PhaseResult> {
  const load = await LoadGenerator.start({
    host: target.host,
    port: target.port,
    credentials: target.credentials,
    qos: settings.qos,
    workers: settings.workers,
    keepaliveSeconds: settings.keepaliveSeconds ?? 60,
    seed: settings.seed ?? 1,
  });
  try {
    const connect = await load.connect();
    log(
      `${target.name}: ${connect.connected}/${target.credentials.length} connected in ${connect.seconds.toFixed(1)} s${connect.failed ? ` (${connect.failed} failed: ${connect.firstError})` : ""}`,
    );
    if (connect.connected === 0) throw new Error(`${target.name}: no client could connect: ${connect.firstError ?? "unknown error"}`);
    await load.run(settings.mode);
    await sleep(settings.warmupSeconds * 1000);

    await load.window();
    const monitors = target.processes.map((p) => ({ label: p.label, monitor: new ProcessMonitor(p.pid) }));
    const rowsBefore = (await target.countRows?.()) ?? null;
    const started = performance.now();
    for (const { monitor } of monitors) monitor.start();
    await sleep(settings.durationSeconds * 1000);
    const report = await load.report();
    const seconds = (performance.now() - started) / 1000;
    const usage = Object.fromEntries(monitors.map(({ label, monitor }) => [label, monitor.stop()]));
    const rowsAfter = (await target.countRows?.()) ?? null;
    await load.stop();

    const rows = rowsBefore !== null && rowsAfter !== null ? rowsAfter - rowsBefore : null;
    // Something looks wrong: show what the target's processes said.
    const output = target.output?.().trim();
    if (output && (rows === 0 || report.errors > 0 || report.disconnects > 0)) log(`${target.name} said:\n${output.slice(-2000)}`);
    const result: PhaseResult = {
      target: target.name,
      qos: settings.qos,
      connected: connect.connected,
      connectFailures: connect.failed,
      seconds,
      sent: report.sent,
      acked: report.acked,
      msgsPerSecond: report.acked / seconds,
      rows,
      rowsPerSecond: rows === null ? null : rows / seconds,
      ackLatencyMs: report.latency.summary(),
      errors: report.errors,
      skipped: report.skipped,
      disconnects: report.disconnects,
      usage,
      ...(report.firstError ? { firstError: report.firstError } : {}),
    };
    log(
      `${target.name} QoS ${settings.qos}: ${Math.round(result.msgsPerSecond)} msgs/s` +
        (result.rowsPerSecond !== null ? `, ${Math.round(result.rowsPerSecond)} rows/s` : "") +
        (settings.qos === 1 ? `, ack p50 ${result.ackLatencyMs.p50} ms p99 ${result.ackLatencyMs.p99} ms` : "") +
        (result.errors ? `, ${result.errors} errors (${result.firstError})` : ""),
    );
    return result;
  } catch (error) {
    load.kill();
    throw error;
  }
}
