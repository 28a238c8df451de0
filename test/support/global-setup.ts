// Provides the integration tests with a real PostgreSQL server: the one TEST_DATABASE_URL
// names, or else an embedded PostgreSQL started once for the whole run. A migrated template
// database is built once; each test file copies it (CREATE DATABASE ... TEMPLATE), which
// takes milliseconds instead of a full migration.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { pino } from "pino";
import { migrateDatabase } from "../../prisma/src/migrate.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded-postgres.ts";
import { adminQuery, databaseUrl, quoteIdent } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A URL on the test PostgreSQL server with the right to create databases. */
    adminDatabaseUrl: string;
    /** A fully migrated database to copy. */
    templateDatabase: string;
    /** Prefix of every database this run creates, so teardown can find leftovers. */
    runPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  let stopEmbedded: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-test-pg-"));
    // mkdtemp makes it 0700; as root, PostgreSQL runs as the postgres user and must enter it.
    await chmod(dataDir, 0o755);
    const embedded = await startEmbeddedPostgres(dataDir, pino({ level: "warn" }), "postgres");
    stopEmbedded = () => embedded.stop();
    adminUrl = embedded.url;
  }
  const runPrefix = `fw_test_${process.pid}_`;
  const template = `${runPrefix}template`;
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(template)}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(template)}`);
  await migrateDatabase(databaseUrl(adminUrl, template));

  project.provide("adminDatabaseUrl", adminUrl);
  project.provide("templateDatabase", template);
  project.provide("runPrefix", runPrefix);

  return async () => {
    const leftovers = await adminQuery(adminUrl, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [runPrefix]);
    for (const { datname } of leftovers.rows as { datname: string }[]) {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
    await stopEmbedded?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
