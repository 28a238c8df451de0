// Operator accounts, sessions, API tokens and sign-in counters: the only code that touches
// their tables, through Prisma's client (README, "One rule for SQL"). Where one statement
// must do what the query API cannot (a conditional upsert, an advisory lock), it is raw SQL
// through the same client.
import { Prisma, type PrismaClient } from "@fleetwatch/prisma";
import type { Role } from "@fleetwatch/contracts";

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: Date;
}

export interface ApiTokenRow {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** last_used_at is written at most once a minute per token, to keep token checks reads. */
const TOKEN_USE_RESOLUTION_MS = 60_000;

export const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
const isNotFound = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";

export class AuthRepository {
  constructor(private readonly prisma: PrismaClient) {}

  findUserByEmail(email: string): Promise<UserRow | null> {
    return this.prisma.user.findUnique({ where: { email } });
  }

  findUser(id: string): Promise<UserRow | null> {
    return isUuid(id) ? this.prisma.user.findUnique({ where: { id } }) : Promise.resolve(null);
  }

  listUsers(): Promise<UserRow[]> {
    return this.prisma.user.findMany({ orderBy: { email: "asc" } });
  }

  /** Null when the email is taken. */
  async createUser(data: { email: string; passwordHash: string; role: Role }): Promise<UserRow | null> {
    try {
      return await this.prisma.user.create({ data });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /** "taken" when the new email belongs to someone else; null when the user does not exist. */
  async updateUser(id: string, data: { email?: string; passwordHash?: string; role?: Role }): Promise<UserRow | null | "taken"> {
    if (!isUuid(id)) return null;
    try {
      return await this.prisma.user.update({ where: { id }, data });
    } catch (error) {
      if (isUniqueViolation(error)) return "taken";
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Replaces the hash only if it is still `oldHash`: a password changed meanwhile wins. */
  async replacePasswordHash(id: string, oldHash: string, newHash: string): Promise<boolean> {
    return (await this.prisma.user.updateMany({ where: { id, passwordHash: oldHash }, data: { passwordHash: newHash } })).count > 0;
  }

  async deleteUser(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await this.prisma.user.deleteMany({ where: { id } })).count > 0;
  }

  countAdmins(): Promise<number> {
    return this.prisma.user.count({ where: { role: "admin" } });
  }

  /**
   * Creates the first admin unless any user exists. An advisory transaction lock makes
   * the check-and-insert atomic across nodes starting at the same moment.
   */
  async createFirstAdmin(email: string, passwordHash: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('fleetwatch:first-admin'))::text`;
      if ((await tx.user.findFirst({ select: { id: true } })) !== null) return false;
      await tx.user.create({ data: { email, passwordHash, role: "admin" } });
      return true;
    });
  }

  async createSession(idHash: string, userId: string, expiresAt: Date): Promise<void> {
    await this.prisma.session.create({ data: { idHash, userId, expiresAt } });
  }

  async findSessionUser(idHash: string): Promise<UserRow | null> {
    const session = await this.prisma.session.findUnique({ where: { idHash }, include: { user: true } });
    if (!session || session.expiresAt.getTime() <= Date.now()) return null;
    return session.user;
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { idHash } });
  }

  async deleteSessionsOf(userId: string): Promise<void> {
    await this.prisma.session.deleteMany({ where: { userId } });
  }

  /** Every session of the user but one (the one they act from; none when they use an API token). */
  async deleteOtherSessionsOf(userId: string, keepIdHash: string | null): Promise<void> {
    await this.prisma.session.deleteMany({ where: { userId, ...(keepIdHash ? { idHash: { not: keepIdHash } } : {}) } });
  }

  async deleteExpiredSessions(): Promise<void> {
    await this.prisma.session.deleteMany({ where: { expiresAt: { lte: new Date() } } });
  }

  createApiToken(data: { userId: string; name: string; tokenHash: string }): Promise<ApiTokenRow> {
    return this.prisma.apiToken.create({ data, select: { id: true, name: true, createdAt: true, lastUsedAt: true } });
  }

  listApiTokens(userId: string): Promise<ApiTokenRow[]> {
    return this.prisma.apiToken.findMany({
      where: { userId },
      orderBy: { createdAt: "asc" },
      select: { id: true, name: true, createdAt: true, lastUsedAt: true },
    });
  }

  async deleteApiToken(id: string, userId: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await this.prisma.apiToken.deleteMany({ where: { id, userId } })).count > 0;
  }

  /** The token's owner, noting the use (at most once a minute per token, to keep reads cheap). */
  async findUserByTokenHash(tokenHash: string): Promise<UserRow | null> {
    const token = await this.prisma.apiToken.findUnique({ where: { tokenHash }, select: { id: true, lastUsedAt: true, user: true } });
    if (!token) return null;
    const now = Date.now();
    if (!token.lastUsedAt || token.lastUsedAt.getTime() < now - TOKEN_USE_RESOLUTION_MS) {
      // updateMany: a token revoked meanwhile is no error.
      await this.prisma.apiToken.updateMany({ where: { id: token.id }, data: { lastUsedAt: new Date(now) } });
    }
    return token.user;
  }

  /**
   * Counts one failed sign-in for `key` (a source address) in a fixed window and returns the
   * count so far. One atomic statement, so nodes sharing the database share the limit.
   */
  async hit(key: string, windowMs: number): Promise<number> {
    const seconds = windowMs / 1000;
    const rows = await this.prisma.$queryRaw<{ count: number }[]>`
      INSERT INTO login_throttle (key, window_start, count) VALUES (${key}, now(), 1)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN login_throttle.window_start <= now() - make_interval(secs => ${seconds}::float8) THEN 1 ELSE login_throttle.count + 1 END,
        window_start = CASE WHEN login_throttle.window_start <= now() - make_interval(secs => ${seconds}::float8) THEN now() ELSE login_throttle.window_start END
      RETURNING count`;
    return rows[0]?.count ?? 0;
  }

  /** The count of `key` in its current window, and the seconds until that window ends (by the database's clock, like hit()). */
  async count(key: string, windowMs: number): Promise<{ count: number; resetsInS: number }> {
    const seconds = windowMs / 1000;
    const rows = await this.prisma.$queryRaw<{ count: number; resets_in_s: number }[]>`
      SELECT count, ceil(extract(epoch FROM window_start + make_interval(secs => ${seconds}::float8) - now()))::int AS resets_in_s
        FROM login_throttle WHERE key = ${key} AND window_start > now() - make_interval(secs => ${seconds}::float8)`;
    return { count: rows[0]?.count ?? 0, resetsInS: rows[0]?.resets_in_s ?? 0 };
  }

  /**
   * Counts one more consecutive failure of `account` from `address` (forgotten `windowMs`
   * after the pair's last failure); returns the count. One atomic statement, shared by nodes.
   */
  async recordLoginFailure(account: string, address: string, windowMs: number): Promise<number> {
    const rows = await this.prisma.$queryRaw<{ failures: number }[]>`
      INSERT INTO login_failures (account, address, failures, last_failure_at) VALUES (${account}, ${address}, 1, now())
      ON CONFLICT (account, address) DO UPDATE SET
        failures = CASE WHEN login_failures.last_failure_at <= now() - make_interval(secs => ${windowMs / 1000}::float8)
                        THEN 1 ELSE login_failures.failures + 1 END,
        last_failure_at = now()
      RETURNING failures`;
    return rows[0]?.failures ?? 0;
  }

  /** The pair's consecutive failures and how long ago (by the database's clock) the last one was; null when none are remembered. */
  async loginFailures(account: string, address: string, windowMs: number): Promise<{ failures: number; sinceLastMs: number } | null> {
    const rows = await this.prisma.$queryRaw<{ failures: number; since_last_ms: number }[]>`
      SELECT failures, (extract(epoch FROM now() - last_failure_at) * 1000)::float8 AS since_last_ms FROM login_failures
       WHERE account = ${account} AND address = ${address} AND last_failure_at > now() - make_interval(secs => ${windowMs / 1000}::float8)`;
    const row = rows[0];
    return row ? { failures: row.failures, sinceLastMs: row.since_last_ms } : null;
  }

  async clearLoginFailures(account: string, address: string): Promise<void> {
    await this.prisma.loginFailure.deleteMany({ where: { account, address } });
  }

  /** Drops counters and pairs nobody has failed with for a whole window (by the database's clock). */
  async forgetStaleLoginFailures(windowMs: number): Promise<void> {
    const seconds = windowMs / 1000;
    await this.prisma.$executeRaw`DELETE FROM login_failures WHERE last_failure_at <= now() - make_interval(secs => ${seconds}::float8)`;
    await this.prisma.$executeRaw`DELETE FROM login_throttle WHERE window_start <= now() - make_interval(secs => ${seconds}::float8)`;
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids in URLs are client input; a malformed one is simply not found (never a database error). */
export const isUuid = (id: string) => uuidPattern.test(id);
