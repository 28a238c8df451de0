// The server's database access: one pg pool, shared by the Prisma client (registry models)
// and by the repositories that write the telemetry hot path with plain SQL.
import pg from "pg";
import { PrismaClient, PrismaPg } from "@fleetwatch/prisma";
import type { Logger } from "../logger.ts";

export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  /** True when a trivial query succeeds within the timeout. */
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A pg pool that survives broken connections: an idle client's error (the server restarted,
 * a network blip) is logged, not thrown, and the pool replaces that client.
 */
export function openPool(
  url: string,
  logger: Logger,
  options: { max: number; name: string; connectionTimeoutMillis?: number; keepAlive?: boolean },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    ...(options.keepAlive ? { keepAlive: true } : {}),
  });
  pool.on("error", (error) => logger.warn({ err: error, pool: options.name }, "idle database connection failed"));
  guardCheckedOutClients(pool);
  return pool;
}

/** A pool's connections: open, idle, and requests waiting for one (metrics). */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export function poolStats(pool: Pick<pg.Pool, "totalCount" | "idleCount" | "waitingCount">): PoolStats {
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

export function connectDatabase(url: string, logger: Logger): Database {
  const pool = openPool(url, logger, { max: 20, name: "main" });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    pool,
    prisma,
    async ping(timeoutMs = 2_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const query = pool.query("SELECT 1").then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([query, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * pg emits 'error' on a client whose connection breaks, and pg-pool listens only while the
 * client is idle: a connection lost during a query on a checked-out client (a database
 * restart, a network cut) would otherwise be an uncaught exception. The query itself still
 * rejects, and the pool discards the broken client when it is released.
 */
export function guardCheckedOutClients(pool: pg.Pool): void {
  pool.on("connect", (client) => client.on("error", () => undefined));
}
