import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres.ts";

describe("embedded PostgreSQL", () => {
  // Only root runs PostgreSQL as another user; elsewhere the trap cannot occur.
  it.runIf(userInfo().uid === 0)("as root, names a DATA_DIR the postgres user cannot enter and what to do", async () => {
    const privateDir = await mkdtemp(join(tmpdir(), "fleetwatch-private-")); // mode 0700
    try {
      await expect(startEmbeddedPostgres(join(privateDir, "data"), pino({ level: "silent" }))).rejects.toThrow(
        `the "postgres" user, which cannot enter ${privateDir} (mode 700). Set DATA_DIR to a folder it can reach`,
      );
    } finally {
      await rm(privateDir, { recursive: true, force: true });
    }
  });
});
