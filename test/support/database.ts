// A fresh database per test file on the real test PostgreSQL server.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { adminQuery, databaseUrl, quoteIdent } from "./postgres.ts";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new database: a copy of the migrated template, or empty with `{ migrated: false }`. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `${inject("runPrefix")}${randomBytes(5).toString("hex")}`;
  const template = options.migrated === false ? "template0" : inject("templateDatabase");
  await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  return {
    url: databaseUrl(adminUrl, name),
    name,
    drop: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    },
  };
}
