// Benchmark 5, queries: the two query layers on one pool (README, "One rule for SQL"). The
// registry's hottest reads, the CONNECT credential lookup and the API token lookup, through
// the repositories (Prisma's client) and as the same statement in raw pg, sequentially and
// concurrently. It reports lookups per second and this process's CPU per lookup, the cost a
// server pays for Prisma on that path: the figure that decides where raw pg is worth it.
import { createHash } from "node:crypto";
import { pino } from "pino";
import { log, parseScenarioOptions, positiveInt, type OptionSpec } from "../lib/cli.ts";
import { createDatabase, resolvePostgres } from "../lib/postgres.ts";
import { machine, type BenchResult, type Table } from "../lib/results.ts";
import { ratio } from "../lib/targets.ts";
import { migrateDatabase } from "../../prisma/src/migrate.ts";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { DevicesRepository } from "../../apps/server/src/modules/devices/devices.repository.ts";
import { AuthRepository } from "../../apps/server/src/modules/auth/auth.repository.ts";

export const queriesOptions: OptionSpec = {
  devices: { default: "10000", describe: "registered devices (and as many API tokens)" },
  lookups: { default: "20000", describe: "lookups per measurement" },
  concurrency: { default: "20", describe: "lookups in flight in the concurrent measurement (the main pool has 20 connections)" },
  rounds: { default: "3", describe: "measurements of each kind; the best is reported" },
};

interface Measurement {
  perSecond: number;
  cpuMicros: number;
}

/** Runs `lookups` calls of `lookup` with `concurrency` in flight; the best of `rounds`. */
async function measure(lookup: (i: number) => Promise<unknown>, lookups: number, concurrency: number, rounds: number) {
  let best: Measurement = { perSecond: 0, cpuMicros: Infinity };
  for (let round = 0; round < rounds; round++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < lookups) await lookup(next++);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    best = {
      perSecond: Math.max(best.perSecond, lookups / seconds),
      cpuMicros: Math.min(best.cpuMicros, (used.user + used.system) / lookups),
    };
  }
  return best;
}

export async function queries(argv: string[]): Promise<BenchResult> {
  const raw = parseScenarioOptions("queries", argv, queriesOptions);
  const options = {
    devices: positiveInt("devices", raw.devices!),
    lookups: positiveInt("lookups", raw.lookups!),
    concurrency: positiveInt("concurrency", raw.concurrency!),
    rounds: positiveInt("rounds", raw.rounds!),
  };
  const startedAt = new Date().toISOString();
  const postgres = await resolvePostgres();
  const database = await createDatabase(postgres, "queries");
  const rows: Table["rows"] = [];
  const figures: Record<string, unknown> = {};
  try {
    await migrateDatabase(database.url);
    const db = connectDatabase(database.url, pino({ level: "warn" }));
    try {
      log(`registering ${options.devices} devices and API tokens`);
      await db.pool.query(
        `INSERT INTO devices (id, name, secret_hash, updated_at) SELECT 'dev-' || g, 'Device ' || g, 'x', now() FROM generate_series(1, $1) g`,
        [options.devices],
      );
      const user = await db.prisma.user.create({ data: { email: "bench@fleetwatch.local", passwordHash: "x", role: "admin" } });
      const tokenHash = (i: number) => createHash("sha256").update(`token-${i}`).digest("hex");
      await db.prisma.apiToken.createMany({
        data: Array.from({ length: options.devices }, (_, i) => ({ userId: user.id, name: `t${i}`, tokenHash: tokenHash(i + 1) })),
      });
      // Recently used: the lookup then only reads, as it does for all but one use a minute.
      await db.pool.query("UPDATE api_tokens SET last_used_at = now() + interval '1 day'");

      const devices = new DevicesRepository(db.prisma);
      const auth = new AuthRepository(db.prisma);
      const deviceId = (i: number) => `dev-${(i % options.devices) + 1}`;
      const cases: { name: string; prisma: (i: number) => Promise<unknown>; pg: (i: number) => Promise<unknown> }[] = [
        {
          name: "CONNECT credential lookup",
          prisma: (i) => devices.findCredentials(deviceId(i)),
          pg: (i) =>
            db.pool.query(
              'SELECT id, disabled, secret_hash AS "secretHash", credential_version AS "credentialVersion" FROM devices WHERE id = $1',
              [deviceId(i)],
            ),
        },
        {
          name: "API token lookup",
          prisma: (i) => auth.findUserByTokenHash(tokenHash((i % options.devices) + 1)),
          pg: (i) =>
            db.pool.query(
              `SELECT u.id, u.email, u.password_hash AS "passwordHash", u.role, u.created_at AS "createdAt", t.id AS "tokenId",
                      (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS touch
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
              [tokenHash((i % options.devices) + 1)],
            ),
        },
      ];
      for (const { name, prisma, pg: viaPg } of cases) {
        for (const concurrency of [1, options.concurrency]) {
          log(`${name}, ${concurrency} in flight`);
          // Warm both paths (connections, Prisma's query plan cache) before measuring.
          await measure(prisma, 1_000, concurrency, 1);
          await measure(viaPg, 1_000, concurrency, 1);
          const withPrisma = await measure(prisma, options.lookups, concurrency, options.rounds);
          const withPg = await measure(viaPg, options.lookups, concurrency, options.rounds);
          figures[`${name} c=${concurrency}`] = { prisma: withPrisma, pg: withPg };
          rows.push([
            name,
            concurrency,
            Math.round(withPrisma.perSecond),
            Math.round(withPg.perSecond),
            ratio(withPrisma.perSecond, withPg.perSecond),
            Math.round(withPrisma.cpuMicros * 10) / 10,
            Math.round(withPg.cpuMicros * 10) / 10,
            Math.round((withPrisma.cpuMicros - withPg.cpuMicros) * 10) / 10,
          ]);
        }
      }
    } finally {
      await db.close();
    }
  } finally {
    await database.drop();
    await postgres.stop();
  }
  return {
    name: "queries",
    startedAt,
    machine: machine(),
    parameters: { ...options, postgres: postgres.source },
    figures,
    tables: [
      {
        title: "Prisma's client against raw pg, same statement, same pool",
        columns: [
          "lookup",
          "in flight",
          "Prisma /s",
          "pg /s",
          "Prisma / pg",
          "Prisma CPU µs/lookup",
          "pg CPU µs/lookup",
          "Prisma's extra CPU µs",
        ],
        rows,
      },
    ],
    targets: [],
    notes: [
      "CPU is this process's (user + system) per lookup: what a server node pays; PostgreSQL's work is the same statement either way.",
      "Best of the rounds for each figure; the database, this process and anything else on the machine share its cores.",
    ],
  };
}
