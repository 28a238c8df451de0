// Starts real Fleetwatch servers for tests: in-process (fast, direct access to internals)
// or as a separate process started the way users start it (for signals, exit codes, crashes).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { loadConfig } from "../../apps/server/src/config.ts";
import { startFleetwatch, type Fleetwatch } from "../../apps/server/src/server.ts";
import type { Logger } from "../../apps/server/src/logger.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestServer {
  fleetwatch: Fleetwatch;
  database: TestDatabase;
  httpUrl: string;
  mqttUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** The first admin every test server starts with (ADMIN_EMAIL / ADMIN_PASSWORD). */
export const testAdmin = { email: "admin@test.local", password: "admin-password-1" };

/**
 * A server on ephemeral ports with its own fresh database, or on `shared.database` (another
 * node of the same deployment; the database is then left for its owner to drop). `logger`:
 * for a test that reads what the server logs (test/support/logs.ts).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  shared: { database?: TestDatabase; logger?: Logger } = {},
): Promise<TestServer> {
  const database = shared.database ?? (await createTestDatabase());
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: "0",
    MQTT_PORT: "0",
    DATABASE_URL: database.url,
    ADMIN_EMAIL: testAdmin.email,
    ADMIN_PASSWORD: testAdmin.password,
    ...env,
  });
  const logger = shared.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const fleetwatch = await startFleetwatch(config, logger);
  return {
    fleetwatch,
    database,
    httpUrl: `http://127.0.0.1:${fleetwatch.ports.http}`,
    mqttUrl: `mqtt://127.0.0.1:${fleetwatch.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${fleetwatch.ports.http}/mqtt`,
    async close() {
      await fleetwatch.close();
      if (!shared.database) await database.drop();
    },
  };
}

export interface TwoNodes {
  nodeA: TestServer;
  nodeB: TestServer;
  /** Closes node B, then node A, which drops the database. */
  close(): Promise<void>;
}

/**
 * Two nodes of one deployment: node A on a fresh database, node B on the same one, both with
 * `env` and bridged by the Redis at `redisUrl`.
 */
export async function startTwoNodes(redisUrl: string, env: Record<string, string> = {}): Promise<TwoNodes> {
  const nodeEnv = { ...env, REDIS_URL: redisUrl };
  const nodeA = await startTestServer(nodeEnv);
  let nodeB: TestServer;
  try {
    nodeB = await startTestServer(nodeEnv, { database: nodeA.database });
  } catch (error) {
    await nodeA.close();
    throw error;
  }
  return {
    nodeA,
    nodeB,
    async close() {
      await nodeB.close();
      await nodeA.close();
    },
  };
}

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const serverEntry = fileURLToPath(new URL("../../apps/server/src/main.ts", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Runs apps/server/src/main.ts in its own Node process, from source. */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ["--conditions=@fleetwatch/source", "--import", "tsx", serverEntry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return {
    child,
    output: () => output,
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in server output:\n${output}`));
        }, timeoutMs);
        void exited.then(() =>
          setTimeout(() => {
            if (waiters.has(check)) {
              waiters.delete(check);
              clearTimeout(timer);
              reject(new Error(`server exited before printing ${pattern}:\n${output}`));
            }
          }, 50),
        );
        waiters.add(check);
        check();
      });
    },
  };
}
