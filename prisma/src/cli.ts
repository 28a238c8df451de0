// `pnpm db:migrate` applies pending migrations; `pnpm db:migration <name>` writes a new
// migration from the changes made to schema.prisma. Both talk to DATABASE_URL.
import { createMigration, migrateDatabase } from "./migrate.ts";

const [command, name] = process.argv.slice(2);
const url = process.env.DATABASE_URL;

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

if (!url) {
  fail(
    "DATABASE_URL is not set. Point it at the PostgreSQL server to use (for example postgresql://postgres@127.0.0.1:5432/fleetwatch). " +
      "On the embedded default there is nothing to run by hand: the server applies pending migrations every time it starts.",
  );
}

try {
  if (command === "migrate") {
    const applied = await migrateDatabase(url);
    console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(", ")}` : "database is up to date");
  } else if (command === "migration") {
    if (!name) fail("usage: pnpm db:migration <name>   (lower_snake_case, e.g. add_alert_rules)");
    const folder = await createMigration(url, name);
    console.log(
      folder ? `wrote ${folder}/migration.sql: review it, then commit it` : "schema.prisma matches the migrations: nothing to write",
    );
  } else {
    fail(`unknown command "${command ?? ""}": use migrate or migration <name>`);
  }
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
// The wasm engine leaves a timer behind after applying migrations; don't wait for it.
process.exit(0);
