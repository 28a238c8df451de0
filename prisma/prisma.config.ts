// Configuration for the stock Prisma CLI (`prisma generate`, and `prisma migrate deploy`
// wherever its native engine can be downloaded). Fleetwatch itself migrates with the
// WebAssembly schema engine (src/migrate.ts), which needs no download.
import { defineConfig } from "prisma/config";
import { externalTables } from "./src/external-tables.ts";

export default defineConfig({
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  experimental: { externalTables: true },
  tables: { external: externalTables.map((table) => `public.${table}`) },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/fleetwatch" },
});
