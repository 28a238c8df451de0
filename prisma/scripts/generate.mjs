// Runs `prisma generate` without the native schema engine download.
// `generate` never uses the schema engine, but the CLI insists on locating one; pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file satisfies it (see shared ENVIRONMENT.md).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
};
const prismaCli = createRequire(import.meta.url).resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [prismaCli, "generate", "--no-hints"], { cwd: here, env, stdio: "inherit" });
process.exit(result.status ?? 1);
