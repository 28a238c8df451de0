import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { diffMigrationsToSchema, migrateDatabase, readMigrations } from "../src/migrate.ts";
import { createTestDatabase, type TestDatabase } from "../../test/support/database.ts";

describe("migrations with the WebAssembly schema engine", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
  });
  afterAll(() => database.drop());

  it("applies every migration to an empty database, in order", async () => {
    const { migrationDirectories } = await readMigrations();
    expect(migrationDirectories.length).toBeGreaterThan(0);
    const applied = await migrateDatabase(database.url);
    expect(applied).toEqual(migrationDirectories.map((m) => m.path));

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const recorded = await client.query(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name",
      );
      expect(recorded.rows.map((r) => r.migration_name)).toEqual(applied);
      const devices = await client.query("SELECT to_regclass('public.devices') AS t");
      expect(devices.rows[0].t).toBe("devices");
    } finally {
      await client.end();
    }
  });

  it("changes nothing when run again", async () => {
    expect(await migrateDatabase(database.url)).toEqual([]);
  });

  it("leaves no difference between the migrations and schema.prisma", async () => {
    const diff = await diffMigrationsToSchema(database.url);
    expect(diff).toMatch(/^(-- This is an empty migration\.)?$/);
  });
});
