// Benchmark 3, connections: N concurrent device connections with keepalive. Measures the
// connect storm (first attempt → last CONNACK), CONNACK latency, the server's RSS per
// connection, and how responsive the server stays while they idle. The server cannot be
// instrumented from here, so its event-loop lag is observed through a proxy: the HTTP
// round trip of /healthz, polled while the connections idle.
import { availableParallelism } from "node:os";
import { deviceIds, type ProviderKind } from "@fleetwatch/simulator";
import { BenchUsageError, log, oneOf, parseScenarioOptions, positiveInt, positiveNumber, sleep, type OptionSpec } from "../lib/cli.ts";
import { fleetwatchProvider, startFleetwatch } from "../lib/fleetwatch.ts";
import { Histogram } from "../lib/histogram.ts";
import { CONNECTIONS_PER_SOURCE_ADDRESS, LoadGenerator, type ConnectResult } from "../lib/load-generator.ts";
import { openFileLimit, ProcessMonitor, sampleProcess } from "../lib/process-stats.ts";
import { createDatabase, resolvePostgres } from "../lib/postgres.ts";
import { machine, type BenchResult } from "../lib/results.ts";
import { evaluate, TARGETS } from "../lib/targets.ts";

export const connectionsOptions: OptionSpec = {
  connections: { default: "10000", describe: "concurrent device connections" },
  idle: { default: "30", describe: "seconds the connections idle while /healthz is polled" },
  keepalive: { default: "30", describe: "MQTT keepalive in seconds" },
  "connect-concurrency": { default: "1000", describe: "connection attempts in flight at once (all workers)" },
  "healthz-interval": { default: "100", describe: "milliseconds between /healthz requests" },
  workers: { default: String(availableParallelism()), describe: "load-generator processes" },
  provider: { default: "auto", describe: "device credentials: auto, api or anonymous" },
};

/** File descriptors the server and the load workers need besides the connections themselves. */
const FD_HEADROOM = 1_024;

export async function connections(argv: string[]): Promise<BenchResult> {
  const raw = parseScenarioOptions("connections", argv, connectionsOptions);
  const options = {
    connections: positiveInt("connections", raw.connections!),
    idle: positiveNumber("idle", raw.idle!),
    keepalive: positiveInt("keepalive", raw.keepalive!),
    connectConcurrency: positiveInt("connect-concurrency", raw["connect-concurrency"]!),
    healthzInterval: positiveInt("healthz-interval", raw["healthz-interval"]!),
    workers: positiveInt("workers", raw.workers!),
    provider: oneOf<ProviderKind>("provider", raw.provider!, ["auto", "api", "anonymous"]),
  };
  // The server holds one descriptor per connection (plus its own), and inherits this process's limit.
  const limit = openFileLimit();
  const needed = options.connections + FD_HEADROOM;
  if (limit !== null && limit < needed) {
    throw new BenchUsageError(
      `the open-file limit (ulimit -n) is ${limit}, too low for ${options.connections} connections: at least ${needed} is needed. Raise it in this shell first, e.g. \`ulimit -n 65536\` (the hard limit, \`ulimit -Hn\`, must allow it), then run again.`,
    );
  }
  const startedAt = new Date().toISOString();
  const postgres = await resolvePostgres();
  const database = await createDatabase(postgres, "connections");
  let connect: ConnectResult | undefined;
  const rss = { beforeMb: null as number | null, connectedMb: null as number | null, afterIdleMb: null as number | null };
  let idleUsage;
  let stillConnected: number;
  let disconnects: number;
  const healthz = new Histogram();
  let healthzFailures = 0;
  let providerKind: string;
  try {
    const server = await startFleetwatch(database.url);
    let load: LoadGenerator | undefined;
    try {
      const provider = await fleetwatchProvider(server, options.provider);
      providerKind = provider.kind;
      log(`acquiring ${options.connections} device credentials (${provider.kind})`);
      const { credentials } = await provider.acquire(deviceIds("conn", options.connections));
      await sleep(1_000);
      const mb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 1048576) * 10) / 10);
      rss.beforeMb = mb(sampleProcess(server.process.pid)?.rssBytes);

      load = await LoadGenerator.start({
        host: server.mqtt.host,
        port: server.mqtt.port,
        credentials,
        qos: 1,
        workers: options.workers,
        keepaliveSeconds: options.keepalive,
        connectConcurrency: options.connectConcurrency,
      });
      log(`connecting ${options.connections} clients`);
      connect = await load.connect();
      log(
        `${connect.connected} connected, ${connect.failed} failed in ${connect.seconds.toFixed(1)} s; CONNACK p99 ${connect.connack.summary().p99} ms`,
      );
      await load.run({ kind: "idle" });
      await load.window();
      await sleep(1_000);
      rss.connectedMb = mb(sampleProcess(server.process.pid)?.rssBytes);

      // Idle: keepalive traffic only; poll /healthz one request at a time.
      const monitor = new ProcessMonitor(server.process.pid);
      monitor.start();
      const until = performance.now() + options.idle * 1000;
      while (performance.now() < until) {
        const started = performance.now();
        const ok = await fetch(`${server.httpUrl}/healthz`).then(
          async (r) => (await r.arrayBuffer(), r.status === 200),
          () => false,
        );
        if (ok) healthz.record(performance.now() - started);
        else healthzFailures++;
        await sleep(Math.max(0, options.healthzInterval - (performance.now() - started)));
      }
      idleUsage = monitor.stop();
      rss.afterIdleMb = idleUsage.rssEndMb;
      const report = await load.report();
      stillConnected = report.connected;
      disconnects = report.disconnects;
      await load.stop();
    } catch (error) {
      load?.kill();
      throw error;
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop().catch(() => undefined);
    await postgres.stop();
  }

  const connack = connect.connack.summary();
  const perConnectionKb =
    rss.beforeMb !== null && rss.connectedMb !== null && connect.connected > 0
      ? Math.round(((rss.connectedMb - rss.beforeMb) * 1024 * 10) / connect.connected) / 10
      : null;
  const health = healthz.summary();
  const allConnected = connect.failed === 0;
  return {
    name: "connections",
    startedAt,
    machine: machine(),
    parameters: {
      connections: options.connections,
      idleSeconds: options.idle,
      keepaliveSeconds: options.keepalive,
      connectConcurrency: options.connectConcurrency,
      workers: options.workers,
      provider: providerKind,
      openFileLimit: limit,
      postgres: postgres.source,
    },
    figures: {
      connect: {
        connected: connect.connected,
        failed: connect.failed,
        seconds: connect.seconds,
        connackMs: connack,
        firstError: connect.firstError,
      },
      rss,
      perConnectionKb,
      idle: { healthzMs: health, healthzFailures, stillConnected, disconnects, usage: idleUsage },
    },
    tables: [
      {
        title: "Connect storm",
        columns: [
          "connections",
          "connected",
          "failed",
          "storm s",
          "CONNACK p50 ms",
          "CONNACK p99 ms",
          "RSS before MB",
          "RSS connected MB",
          "KB per connection",
        ],
        rows: [
          [
            options.connections,
            connect.connected,
            connect.failed,
            connect.seconds,
            connack.p50,
            connack.p99,
            rss.beforeMb,
            rss.connectedMb,
            perConnectionKb,
          ],
        ],
      },
      {
        title: `Idle for ${options.idle} s (event-loop lag proxy: /healthz round trip)`,
        columns: ["/healthz p50 ms", "p99 ms", "max ms", "failures", "still connected", "dropped", "server CPU %", "RSS end MB"],
        rows: [
          [
            health.p50,
            health.p99,
            health.max,
            healthzFailures,
            stillConnected,
            disconnects,
            idleUsage?.cpuPercent ?? null,
            rss.afterIdleMb,
          ],
        ],
      },
    ],
    targets: [
      evaluate(
        TARGETS.connectStormSeconds.describe,
        `seconds until all ${options.connections} connected`,
        allConnected ? connect.seconds : null,
        "<=",
        TARGETS.connectStormSeconds.target,
        " s",
        allConnected ? undefined : `${connect.failed} connections failed: ${connect.firstError}`,
      ),
      evaluate(
        TARGETS.connectionsRssMb.describe,
        "server RSS with all connected",
        rss.connectedMb,
        "<=",
        TARGETS.connectionsRssMb.target,
        " MB",
      ),
    ],
    notes: [
      "The server's event-loop lag cannot be read from outside; the /healthz HTTP round trip (one request at a time) while the connections idle is its observable proxy.",
      `RSS is the server process's VmRSS from /proc; per connection = (RSS connected − RSS before) / connections. Beyond ${CONNECTIONS_PER_SOURCE_ADDRESS.toLocaleString("en-US")} connections the load generator spreads clients over several 127.x source addresses.`,
    ],
  };
}
