// Fleetwatch as the benchmarks run it: the built server (`node apps/server/dist/main.js`, as
// `pnpm start` runs it) on free ports with a fresh database, and the way its devices get
// credentials (the API when the server has a device registry, else anonymous).
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { chooseProvider, deriveEndpoints, memorySecretStore, type CredentialProvider, type ProviderKind } from "@fleetwatch/simulator";
import { freePort } from "./ports.ts";
import { spawnTarget, waitForHttp, type TargetProcess } from "./processes.ts";
import { repoRoot, resultsDir } from "./results.ts";

export const SERVER_ENTRY = "apps/server/dist/main.js";

export interface FleetwatchTarget {
  process: TargetProcess;
  httpUrl: string;
  mqtt: { host: string; port: number };
  wsUrl: string;
  databaseUrl: string;
  admin: { email: string; password: string };
  stop(): Promise<void>;
}

export function assertServerBuilt(): void {
  if (!existsSync(`${repoRoot}${SERVER_ENTRY}`))
    throw new Error(`${SERVER_ENTRY} does not exist: run \`pnpm build\` first (the benchmarks measure the built server)`);
}

export async function startFleetwatch(databaseUrl: string, env: Record<string, string> = {}): Promise<FleetwatchTarget> {
  assertServerBuilt();
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const admin = { email: "bench@fleetwatch.local", password: randomBytes(12).toString("base64url") };
  // BENCH_CPU_PROF=1 writes a V8 CPU profile of the server (open it in Chrome DevTools or
  // speedscope) to bench/results/profiles/ when it stops: the hot path is profiled as measured.
  const profile = process.env.BENCH_CPU_PROF === "1" ? ["--cpu-prof", "--cpu-prof-dir", `${resultsDir}profiles`] : [];
  const server = spawnTarget("fleetwatch", process.execPath, [...profile, SERVER_ENTRY], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "warn",
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      // The load generator publishes as fast as acks (QoS 1) or TCP (QoS 0) allow: the
      // per-device publish rate limit, a safety bound not under measurement, would cut it off.
      MQTT_PUBLISH_RATE: "1000000",
      MQTT_PUBLISH_BURST: "1000000",
      ...env,
    },
  });
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForHttp(`${httpUrl}/readyz`, 120_000, server.exited);
  } catch (error) {
    await server.stop(2_000);
    throw new Error(`Fleetwatch did not become ready: ${(error as Error).message}\n${server.output().slice(-3000)}`, { cause: error });
  }
  return {
    process: server,
    httpUrl,
    mqtt: { host: "127.0.0.1", port: mqttPort },
    wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
    databaseUrl,
    admin,
    stop: () => server.stop(),
  };
}

/** How the benchmark's devices get credentials on this server. */
export function fleetwatchProvider(target: FleetwatchTarget, kind: ProviderKind): Promise<CredentialProvider> {
  return chooseProvider({
    kind,
    baseUrl: target.httpUrl,
    auth: target.admin,
    // Each run has a fresh database: secrets from an earlier run would name devices that no longer exist.
    secrets: memorySecretStore(),
    fallbackEndpoints: deriveEndpoints(target.httpUrl, target.mqtt.port),
  });
}
