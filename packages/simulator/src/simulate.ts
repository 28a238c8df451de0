// A simulation run: choose how devices get credentials, connect the fleet, print progress,
// stop at the end of --duration or when aborted (Ctrl-C).
import { resolve } from "node:path";
import { chooseProvider, deriveEndpoints, fileSecretStore, type SecretStore } from "./credentials.ts";
import type { FleetCounters } from "./device.ts";
import { Fleet } from "./fleet.ts";
import { deviceIds, type SimulatorOptions } from "./options.ts";

export interface RunHooks {
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Default: data/simulator-secrets.json in the working directory. */
  secrets?: SecretStore;
  /** Called once the fleet is connecting, e.g. for tests to drop devices. */
  onFleet?: (fleet: Fleet) => void;
}

export interface RunResult {
  provider: "api" | "anonymous";
  brokerUrl: string;
  counters: FleetCounters;
  seconds: number;
}

export async function runSimulation(options: SimulatorOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  const auth = options.token
    ? { token: options.token }
    : options.adminEmail && options.adminPassword
      ? { email: options.adminEmail, password: options.adminPassword }
      : undefined;
  const provider = await chooseProvider({
    kind: options.provider,
    baseUrl: options.url,
    ...(auth ? { auth } : {}),
    secrets: hooks.secrets ?? fileSecretStore(resolve("data/simulator-secrets.json")),
    fallbackEndpoints: deriveEndpoints(options.url),
  });
  const { credentials, endpoints } = await provider.acquire(deviceIds(options.prefix, options.devices));
  const brokerUrl = options.mqttUrl ?? (options.transport === "ws" ? endpoints.ws : (endpoints.mqtt ?? deriveEndpoints(options.url).mqtt!));
  log(
    `simulate: ${options.devices} devices (${provider.kind} credentials) → ${brokerUrl}, ${options.rate} msg/s each at QoS ${options.qos}, churn ${options.churn}/min`,
  );

  const fleet = new Fleet(credentials, {
    brokerUrl,
    qos: options.qos,
    rate: options.rate,
    seed: options.seed,
    churn: options.churn,
  });
  hooks.onFleet?.(fleet);
  const started = Date.now();
  const progress = progressReporter(fleet.counters, options, started, log);
  const timer = setInterval(progress, options.progressInterval * 1000);
  try {
    await Promise.race([fleet.start(), aborted(hooks.signal)]);
    await Promise.race([
      aborted(hooks.signal),
      ...(options.duration !== undefined ? [sleep(options.duration * 1000 - (Date.now() - started))] : []),
    ]);
  } finally {
    clearInterval(timer);
    await fleet.stop();
  }
  progress();
  const seconds = (Date.now() - started) / 1000;
  log(`simulate: stopped after ${seconds.toFixed(1)} s`);
  return { provider: provider.kind, brokerUrl, counters: { ...fleet.counters }, seconds };
}

function progressReporter(counters: FleetCounters, options: SimulatorOptions, started: number, log: (line: string) => void) {
  let last = { time: started, sent: 0 };
  return () => {
    const now = Date.now();
    const rate = (counters.sent - last.sent) / Math.max(0.001, (now - last.time) / 1000);
    last = { time: now, sent: counters.sent };
    const acked = options.qos === 0 ? "-" : String(counters.acked);
    const error = counters.lastError && counters.errors > 0 ? ` (last: ${counters.lastError})` : "";
    log(
      `[${String(Math.round((now - started) / 1000)).padStart(4)}s] connected ${counters.connected}/${options.devices} · sent ${counters.sent} · acked ${acked} · ` +
        `errors ${counters.errors} · drops ${counters.drops} · ${rate.toFixed(1)} msg/s${error}`,
    );
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

function aborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return new Promise(() => {});
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
