// Migrations with Prisma's real schema engine, compiled to WebAssembly, so that neither a
// user's first start nor CI needs to download a native engine. Migrations stay in Prisma's
// standard layout (migrations/<timestamp>_<name>/migration.sql + migration_lock.toml), and
// the `_prisma_migrations` bookkeeping is the engine's own, so the stock
// `prisma migrate deploy` works on the same database wherever its binary is available.
import { readFile, readdir, mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { MigrationList, SchemaEngine } from "@prisma/schema-engine-wasm";
import { externalTables } from "./external-tables.ts";

/**
 * The folder that holds schema.prisma and migrations/. This file runs from src/ in
 * development and from dist/src/ once built, one or two levels below it.
 */
const prismaDir = [new URL("../", import.meta.url), new URL("../../", import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(join(dir, "schema.prisma"))) as string;
export const schemaPath = join(prismaDir, "schema.prisma");
export const migrationsDir = join(prismaDir, "migrations");
const lockfileName = "migration_lock.toml";
const filters = { externalTables: externalTables.map((table) => `public.${table}`), externalEnums: [] };

// Node's global WebAssembly, typed here: @types/node 20 does not declare it, and the DOM lib
// does not belong in a server build.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

/**
 * The engine reports a Rust panic's message through this global before it throws (the
 * Prisma CLI installs the same registry); without it the panic surfaces as a TypeError.
 */
let lastPanic: string | undefined;
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } }).PRISMA_WASM_PANIC_REGISTRY ??= {
  set_message: (message) => void (lastPanic = message),
};

let wasmLoaded: Promise<void> | undefined;

/**
 * Instantiates the engine's WebAssembly module once per process. The package's own entry
 * point imports the .wasm file as an ES module, which Node 20 only allows behind
 * --experimental-wasm-modules; doing the instantiation here avoids that flag.
 */
function loadWasm(): Promise<void> {
  wasmLoaded ??= (async () => {
    const gluePath = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const bytes = await readFile(gluePath.replace(/\.js$/, ".wasm"));
    const { instance } = await WebAssembly.instantiate(bytes, { "./schema_engine_bg.js": glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmLoaded;
}

type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;

/**
 * adapter-pg's executeScript splits a migration on every ";" (in comments, string literals and
 * function bodies too) and runs the pieces one by one, each committed on its own. The stock
 * engine sends the script whole, as one simple query, which PostgreSQL runs as one implicit
 * transaction: so does this, so a migration applies entirely or not at all and may define
 * plpgsql functions (20261203130000_message_rollups). onError is the adapter's own mapping of
 * pg errors to the engine's (private in its typings).
 */
function runScriptsWhole(adapter: PgAdapter): PgAdapter {
  const queryable = adapter as unknown as { client: pg.Pool; onError(error: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await queryable.client.query(script);
    } catch (error) {
      queryable.onError(error);
    }
  };
  return adapter;
}

/**
 * The pg adapter factory, keeping every connection it opens so that they can be closed when
 * the engine is done (the engine never disposes them, and their pools would hold the process
 * open). It gets discrete connection fields, not { connectionString }: the adapter opens its
 * shadow database as { ...config, database }, where a connectionString would override the
 * database name (replaying migrations into the real database) and a pg.Pool's options would
 * lose the password (pg-pool stores it non-enumerable).
 */
class TrackedPrismaPg extends PrismaPg {
  private readonly opened: PgAdapter[] = [];

  override async connect() {
    const adapter = runScriptsWhole(await super.connect());
    this.opened.push(adapter);
    return adapter;
  }

  /** The engine replays the migrations into a shadow database to diff them against schema.prisma: the same way. */
  override async connectToShadowDb() {
    return runScriptsWhole(await super.connectToShadowDb());
  }

  async disposeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((adapter) => adapter.dispose()));
  }
}

export type MigrationLog = (line: string) => void;

async function withEngine<T>(
  connectionString: string,
  log: MigrationLog | undefined,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  await loadWasm();
  const schema = await readFile(schemaPath, "utf8");
  const factory = new TrackedPrismaPg({ ...parseIntoClientConfig(connectionString), max: 2, allowExitOnIdle: true });
  const adapter = bindMigrationAwareSqlAdapterFactory(factory);
  let engine: SchemaEngine;
  try {
    engine = await glue.SchemaEngine.new({ datamodels: [["schema.prisma", schema]] }, (line: string) => log?.(line), adapter);
  } catch (error) {
    await factory.disposeAll();
    throw error;
  }
  try {
    return await work(engine);
  } catch (error) {
    if (lastPanic) {
      const panic = lastPanic;
      lastPanic = undefined;
      throw new Error(`the Prisma schema engine panicked: ${panic}`, { cause: error });
    }
    throw error;
  } finally {
    engine.free();
    await factory.disposeAll();
  }
}

/** Reads migrations/ in the shape the engine expects. Folder names sort by their timestamp prefix. */
export async function readMigrations(dir = migrationsDir): Promise<MigrationList> {
  const entries = existsSync(dir) ? await readdir(dir, { withFileTypes: true }) : [];
  const folders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const lockPath = join(dir, lockfileName);
  return {
    baseDir: dir,
    lockfile: { path: lockfileName, content: existsSync(lockPath) ? await readFile(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: await Promise.all(
      folders.map(async (name) => {
        const file = join(dir, name, "migration.sql");
        const content = existsSync(file)
          ? ({ tag: "ok", value: await readFile(file, "utf8") } as const)
          : ({ tag: "error", value: `${file} is missing` } as const);
        return { path: name, migrationFile: { path: "migration.sql", content } };
      }),
    ),
  };
}

/**
 * Applies every pending migration, in order, each in its own transaction, exactly as
 * `prisma migrate deploy` does. Running it against an up-to-date database changes nothing.
 * Concurrent starts of several server nodes are serialised by the engine's advisory lock.
 */
export async function migrateDatabase(connectionString: string, log?: MigrationLog): Promise<string[]> {
  const migrationsList = await readMigrations();
  return withEngine(connectionString, log, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters });
    return appliedMigrationNames;
  });
}

/**
 * The SQL that would take a database built by the migrations to the state schema.prisma
 * describes. Empty when the two agree. The engine replays the migrations in a temporary
 * shadow database on the same server (connectionString must be allowed to create one).
 */
export async function diffMigrationsToSchema(connectionString: string): Promise<string> {
  const migrationsList = await readMigrations();
  const schema = await readFile(schemaPath, "utf8");
  return withEngine(connectionString, undefined, async (engine) => {
    const result = await engine.diff({
      from: { tag: "migrations", ...migrationsList },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schema }] },
      script: true,
      exitCode: null,
      filters,
    });
    return (result.stdout ?? "").trim();
  });
}

const emptyDiff = /^-- This is an empty migration\.?$/;

/** Writes migrations/<timestamp>_<name>/migration.sql for what schema.prisma adds, or returns null when nothing changed. */
export async function createMigration(connectionString: string, name: string): Promise<string | null> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`migration name must be lower_snake_case, got "${name}"`);
  const sql = await diffMigrationsToSchema(connectionString);
  if (sql === "" || emptyDiff.test(sql)) return null;
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const folder = join(migrationsDir, `${stamp}_${name}`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "migration.sql"), `${sql}\n`);
  const lock = join(migrationsDir, lockfileName);
  if (!existsSync(lock)) {
    await writeFile(
      lock,
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
    );
  }
  return folder;
}
