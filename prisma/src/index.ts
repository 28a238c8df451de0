// The database package: the generated Prisma client for the registry models, and the
// migrate tool the server runs at start.
export { PrismaClient, Prisma } from "../generated/client/client.ts";
export type * from "../generated/client/models.ts";
export { PrismaPg } from "@prisma/adapter-pg";
export { migrateDatabase, diffMigrationsToSchema, createMigration, readMigrations } from "./migrate.ts";
