// Starts the built product exactly as the README does (`node apps/server/dist/main.js` from
// the repo root) on free ports, waits until /readyz says ready, and stops it with SIGTERM.
// The database is a fresh one on TEST_DATABASE_URL's server when that is set, else the
// product's own embedded PostgreSQL in a new temporary DATA_DIR (the zero-config default).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

const host = "127.0.0.1";
const readyTimeoutMs = 60_000;
const stopTimeoutMs = 20_000;

export interface StartOptions {
  /** A PostgreSQL server to create a throwaway database on; unset uses the embedded one. */
  testDatabaseUrl?: string | undefined;
  /**
   * A database to use and keep (created when missing, never dropped): for benchmarks whose
   * seed takes minutes and is reused across runs. Takes precedence over testDatabaseUrl.
   */
  keptDatabaseUrl?: string | undefined;
  /** Extra environment for the server process. */
  env?: Record<string, string>;
}

export interface Product {
  /** e.g. http://127.0.0.1:41234, no trailing slash. */
  baseUrl: string;
  mqttPort: number;
  /** The server's stdout and stderr so far. */
  output(): string;
  /** The product's database on TEST_DATABASE_URL's server (unset on the embedded one): for benchmarks that seed data. */
  databaseUrl?: string;
  /** SIGTERM, wait for the exit, then drop the database or data directory (never a kept database). */
  stop(): Promise<void>;
}

/** A port that was free a moment ago: bind port 0, read what the OS picked, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port assigned"))));
    });
  });
}

interface Storage {
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The kept database, created on its server when it does not exist yet. */
async function keptStorage(databaseUrl: string): Promise<Storage> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`kept database name "${name}" must be letters, digits and underscores`);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return { env: { DATABASE_URL: databaseUrl }, cleanup: async () => undefined };
}

async function createStorage(testDatabaseUrl: string | undefined, keptDatabaseUrl: string | undefined): Promise<Storage> {
  if (keptDatabaseUrl) return keptStorage(keptDatabaseUrl);
  if (!testDatabaseUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-e2e-"));
    // mkdtemp makes it 0700. Run as root, the product runs PostgreSQL as the "postgres"
    // user, which must be able to enter the directory to reach its data below it.
    await chmod(dataDir, 0o755);
    return { env: { DATA_DIR: dataDir }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `fw_e2e_${randomBytes(6).toString("hex")}`;
  const admin = (sql: string) => adminQuery(testDatabaseUrl, sql);
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.href },
    // FORCE: a connection left behind by a crashed server must not keep the database alive.
    cleanup: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function waitUntilReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`/readyz did not answer 200 within ${readyTimeoutMs / 1000} s (last: ${last})`);
}

export async function startProduct(options: StartOptions = {}): Promise<Product> {
  for (const built of ["apps/server/dist/main.js", "apps/web/dist/index.html"]) {
    if (!existsSync(join(repoRoot, built))) throw new Error(`${built} is missing: run \`pnpm build\` first`);
  }

  const [port, mqttPort] = [await freePort(), await freePort()];
  const storage = await createStorage(options.testDatabaseUrl, options.keptDatabaseUrl);
  // Inherit the environment (PATH, locale), minus anything that would point the product at
  // another database or data directory than the one made for this run.
  const { DATABASE_URL: _url, DATA_DIR: _dir, ...inherited } = process.env;
  const child = spawn(process.execPath, ["apps/server/dist/main.js"], {
    cwd: repoRoot,
    env: {
      ...inherited,
      NODE_ENV: "production",
      HOST: host,
      PORT: String(port),
      MQTT_PORT: String(mqttPort),
      LOG_LEVEL: "info",
      ...storage.env,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });

  const chunks: string[] = [];
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => chunks.push(chunk));
  const output = () => chunks.join("");

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const forced = setTimeout(() => child.kill("SIGKILL"), stopTimeoutMs);
          await exited(child);
          clearTimeout(forced);
        }
      } finally {
        await storage.cleanup();
      }
    })());

  const baseUrl = `http://${host}:${port}`;
  try {
    await waitUntilReady(baseUrl, child);
  } catch (error) {
    await stop().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Fleetwatch did not start: ${reason}\n--- server output ---\n${output()}--- end of server output ---`, {
      cause: error,
    });
  }
  return { baseUrl, mqttPort, output, stop, ...(storage.env.DATABASE_URL ? { databaseUrl: storage.env.DATABASE_URL } : {}) };
}
