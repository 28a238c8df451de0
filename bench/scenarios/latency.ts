// Benchmark 2, latency: how long a device's message takes to reach a dashboard, while a
// background load of (by default) 10,000 messages/s runs. A probe device publishes a
// numbered message every few milliseconds; an observer records when each one arrives.
// The observer is the dashboard's own live channel (WebSocket /api/live, signed in with a
// session cookie as the browser is); an MQTT-over-WebSocket subscriber on /mqtt can be
// measured instead, for comparison.
import { availableParallelism } from "node:os";
import mqtt, { type MqttClient } from "mqtt";
import WebSocket from "ws";
import { deviceTopic, LIVE_PATH, parseTelemetry, type LiveServerMessage } from "@fleetwatch/contracts";
import { deviceIds, FleetwatchApi, type DeviceCredentials, type ProviderKind } from "@fleetwatch/simulator";
import { log, oneOf, parseScenarioOptions, positiveInt, positiveNumber, qosList, sleep, type OptionSpec } from "../lib/cli.ts";
import { fleetwatchProvider, startFleetwatch, type FleetwatchTarget } from "../lib/fleetwatch.ts";
import { Histogram } from "../lib/histogram.ts";
import { LoadGenerator } from "../lib/load-generator.ts";
import { ProcessMonitor } from "../lib/process-stats.ts";
import { createDatabase, resolvePostgres } from "../lib/postgres.ts";
import { machine, type BenchResult } from "../lib/results.ts";
import { evaluate, TARGETS } from "../lib/targets.ts";

/** Something that sees a device's telemetry the way a dashboard would. */
export interface Observer {
  readonly name: string;
  readonly description: string;
  /** Calls `onProbe` with the probe number of each telemetry message of `deviceId` it sees. */
  watch(deviceId: string, onProbe: (probe: number) => void): Promise<void>;
  close(): Promise<void>;
}

/** An MQTT-over-WebSocket client on the server's /mqtt endpoint, subscribed to the probe device's telemetry. */
export function mqttWebSocketObserver(target: FleetwatchTarget, credentials: DeviceCredentials): Observer {
  let client: MqttClient | undefined;
  return {
    name: "mqtt-ws",
    description: `MQTT over WebSocket subscriber on ${target.wsUrl} (what the dashboard's MQTT client would see)`,
    async watch(deviceId, onProbe) {
      client = await mqtt.connectAsync(target.wsUrl, {
        clientId: credentials.clientId,
        ...(credentials.username !== undefined ? { username: credentials.username, password: credentials.password } : {}),
        reconnectPeriod: 0,
      });
      client.on("message", (_topic, payload) => {
        const probe = probeNumber(payload);
        if (probe !== undefined) onProbe(probe);
      });
      await client.subscribeAsync(deviceTopic.telemetry(deviceId), { qos: 0 });
    },
    async close() {
      await client?.endAsync(true);
    },
  };
}

/** The probe number in a telemetry payload, if it is one. */
function probeNumber(payload: Buffer | string): number | undefined {
  const parsed = parseTelemetry(payload, new Date());
  return parsed.ok ? parsed.readings.find((r) => r.metric === "probe")?.value : undefined;
}

/**
 * The dashboard's live channel: a WebSocket on /api/live opened with the operator's session
 * cookie (as the browser opens it), subscribed to the probe device's telemetry; each probe
 * counts when the batch frame carrying it arrives.
 */
export function liveChannelObserver(target: FleetwatchTarget): Observer {
  let socket: WebSocket | undefined;
  const url = `${target.httpUrl.replace(/^http/, "ws")}${LIVE_PATH}`;
  return {
    name: "live",
    description: `the dashboard's live channel, WebSocket ${LIVE_PATH} with a session cookie, subscribed to the probe device's telemetry`,
    async watch(deviceId, onProbe) {
      const { cookie } = await new FleetwatchApi(target.httpUrl, target.admin).authHeaders();
      if (!cookie) throw new Error("signing in gave no session cookie for the live channel");
      const ws = new WebSocket(url, { headers: { cookie } });
      socket = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
        ws.once("unexpected-response", (_request, response) =>
          reject(new Error(`${LIVE_PATH} answered ${response.statusCode} instead of upgrading`)),
        );
      });
      const subscribed = new Promise<void>((resolve, reject) => {
        ws.on("message", (data) => {
          const message = JSON.parse((data as Buffer).toString("utf8")) as LiveServerMessage;
          if (message.type === "subscribed" && message.id === "probe") resolve();
          else if (message.type === "error")
            reject(new Error(`live channel refused the probe subscription: ${message.code} ${message.message}`));
          else if (message.type === "batch") {
            for (const m of message.messages) {
              if (m.subscription !== "probe") continue;
              const probe = probeNumber(m.encoding === "utf8" ? m.payload : Buffer.from(m.payload, "base64"));
              if (probe !== undefined) onProbe(probe);
            }
          }
        });
        ws.once("close", (code) => reject(new Error(`live channel closed (${code}) before the subscription was confirmed`)));
      });
      ws.send(JSON.stringify({ type: "subscribe", id: "probe", filter: deviceTopic.telemetry(deviceId) }));
      await subscribed;
    },
    async close() {
      socket?.close();
    },
  };
}

const OBSERVERS = ["live", "mqtt-ws"] as const;

export const latencyOptions: OptionSpec = {
  devices: { default: "1000", describe: "background devices" },
  rate: { default: "10", describe: "background messages per second per device (1000 × 10 = 10,000 msgs/s)" },
  duration: { default: "30", describe: "seconds of measurement" },
  warmup: { default: "5", describe: "seconds of background load before measuring" },
  qos: { default: "1", describe: "QoS of the background load and the probe" },
  "probe-interval": { default: "20", describe: "milliseconds between probe messages" },
  observer: { default: "live", describe: `observer: ${OBSERVERS.join(", ")} (live: the dashboard's /api/live channel)` },
  workers: { default: String(availableParallelism()), describe: "load-generator processes" },
  provider: { default: "auto", describe: "device credentials: auto, api or anonymous" },
};

export async function latency(argv: string[]): Promise<BenchResult> {
  const raw = parseScenarioOptions("latency", argv, latencyOptions);
  const options = {
    devices: positiveInt("devices", raw.devices!),
    rate: positiveNumber("rate", raw.rate!),
    duration: positiveNumber("duration", raw.duration!),
    warmup: positiveNumber("warmup", raw.warmup === "0" ? "0.001" : raw.warmup!),
    qos: qosList("qos", raw.qos!)[0]!,
    probeInterval: positiveInt("probe-interval", raw["probe-interval"]!),
    observer: oneOf("observer", raw.observer!, OBSERVERS),
    workers: positiveInt("workers", raw.workers!),
    provider: oneOf<ProviderKind>("provider", raw.provider!, ["auto", "api", "anonymous"]),
  };
  const startedAt = new Date().toISOString();
  const postgres = await resolvePostgres();
  const database = await createDatabase(postgres, "latency");
  const latencies = new Histogram();
  let background: { sent: number; acked: number; errors: number; skipped: number; seconds: number };
  let probesSent = 0;
  let probesSeen = 0;
  let observerDescription: string;
  let serverUsage;
  let providerKind: string;
  try {
    const server = await startFleetwatch(database.url);
    let load: LoadGenerator | undefined;
    let observer: Observer | undefined;
    let probe: MqttClient | undefined;
    try {
      const provider = await fleetwatchProvider(server, options.provider);
      providerKind = provider.kind;
      const { credentials } = await provider.acquire([...deviceIds("bench", options.devices), "bench-probe", "bench-observer"]);
      const probeCredentials = credentials.at(-2)!;
      const observerCredentials = credentials.at(-1)!;

      load = await LoadGenerator.start({
        host: server.mqtt.host,
        port: server.mqtt.port,
        credentials: credentials.slice(0, -2),
        qos: options.qos,
        workers: options.workers,
      });
      const connect = await load.connect();
      log(`background: ${connect.connected}/${options.devices} devices connected in ${connect.seconds.toFixed(1)} s`);
      await load.run({ kind: "rate", perClientPerSecond: options.rate });

      observer = options.observer === "live" ? liveChannelObserver(server) : mqttWebSocketObserver(server, observerCredentials);
      observerDescription = observer.description;
      // Probe number → send time, for the probes sent inside the measurement window.
      const sentAt = new Map<number, number>();
      let measuring = false;
      await observer.watch(probeCredentials.deviceId, (number) => {
        const at = sentAt.get(number);
        if (at === undefined) return;
        sentAt.delete(number);
        latencies.record(performance.now() - at);
        probesSeen++;
      });
      probe = await mqtt.connectAsync(`mqtt://${server.mqtt.host}:${server.mqtt.port}`, {
        clientId: probeCredentials.clientId,
        ...(probeCredentials.username !== undefined ? { username: probeCredentials.username, password: probeCredentials.password } : {}),
        reconnectPeriod: 0,
      });
      let number = 0;
      const publishProbe = () => {
        number++;
        if (measuring) {
          sentAt.set(number, performance.now());
          probesSent++;
        }
        probe!.publish(
          deviceTopic.telemetry(probeCredentials.deviceId),
          JSON.stringify({ probe: number, temperature: 21, ts: Date.now() }),
          { qos: options.qos },
        );
      };
      const timer = setInterval(publishProbe, options.probeInterval);
      await sleep(options.warmup * 1000);

      await load.window();
      const monitor = new ProcessMonitor(server.process.pid);
      monitor.start();
      measuring = true;
      const started = performance.now();
      await sleep(options.duration * 1000);
      measuring = false;
      clearInterval(timer);
      const report = await load.report();
      background = {
        sent: report.sent,
        acked: report.acked,
        errors: report.errors,
        skipped: report.skipped,
        seconds: (performance.now() - started) / 1000,
      };
      serverUsage = monitor.stop();
      await sleep(500); // the last probes in flight
      await load.stop();
    } catch (error) {
      load?.kill();
      throw error;
    } finally {
      await probe?.endAsync(true).catch(() => undefined);
      await observer?.close().catch(() => undefined);
      await server.stop();
    }
  } finally {
    await database.drop().catch(() => undefined);
    await postgres.stop();
  }

  const summary = latencies.summary();
  const backgroundRate = background.sent / Math.max(background.seconds, 0.001);
  log(
    `probe → observer: p50 ${summary.p50} ms, p99 ${summary.p99} ms over ${probesSeen} probes; background ${Math.round(backgroundRate)} msgs/s`,
  );
  return {
    name: "latency",
    startedAt,
    machine: machine(),
    parameters: {
      backgroundDevices: options.devices,
      ratePerDevice: options.rate,
      targetBackgroundRate: options.devices * options.rate,
      durationSeconds: options.duration,
      qos: options.qos,
      probeIntervalMs: options.probeInterval,
      observer: options.observer,
      workers: options.workers,
      provider: providerKind,
      postgres: postgres.source,
    },
    figures: { latencyMs: summary, probesSent, probesSeen, background: { ...background, msgsPerSecond: backgroundRate }, serverUsage },
    tables: [
      {
        title: `Publish → observer frame (${options.observer})`,
        columns: [
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "max ms",
          "probes seen/sent",
          "background msgs/s",
          "background skipped",
          "server CPU %",
          "server peak RSS MB",
        ],
        rows: [
          [
            summary.p50,
            summary.p90,
            summary.p99,
            summary.max,
            `${probesSeen}/${probesSent}`,
            backgroundRate,
            background.skipped,
            serverUsage?.cpuPercent ?? null,
            serverUsage?.rssPeakMb ?? null,
          ],
        ],
      },
    ],
    targets: [
      evaluate(
        TARGETS.latencyP99Ms.describe,
        `p99 publish → ${options.observer} frame`,
        summary.p99,
        "<=",
        TARGETS.latencyP99Ms.target,
        " ms",
      ),
    ],
    notes: [
      `Observer: ${observerDescription}.`,
      "The probe publisher and the observer run in the coordinator process and share its clock; the background load runs in separate worker processes.",
      "background skipped: background messages not sent because the server had 1,000 unacknowledged messages for that device (it was not keeping up).",
    ],
  };
}
