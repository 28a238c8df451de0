// Configuration for the stock Prisma CLI (`prisma generate`, and `prisma migrate deploy`
// wherever its native engine can be downloaded). Fleetwatch itself migrates with the
// WebAssembly schema engine (src/migrate.ts), which needs no download.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/fleetwatch" },
});
