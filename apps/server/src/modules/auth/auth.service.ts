// Operator authentication: sign-in with sessions, API tokens, and the first admin.
import type { ApiToken, ApiTokenCreated, Role, User } from "@fleetwatch/contracts";
import type { Config } from "../../config.ts";
import type { Logger } from "../../logger.ts";
import { badRequest, tooManyRequests, unauthorized } from "../../http/errors.ts";
import { throttleKey } from "../../security/client-address.ts";
import { hashPassword, needsRehash, randomToken, sha256, unknownAccountHash, verifySecret } from "../../security/secrets.ts";
import type { ApiTokenRow, AuthRepository, UserRow } from "./auth.repository.ts";

/** The authenticated caller of an API request. */
export interface Operator {
  userId: string;
  email: string;
  role: Role;
  createdAt: Date;
  /** Cookie sessions need a CSRF token on changes; Bearer tokens cannot be sent by a browser on its own. */
  via: "session" | "token";
  sessionToken?: string;
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, role: row.role, createdAt: row.createdAt.toISOString() };
}

function toApiToken(row: ApiTokenRow): ApiToken {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString(), lastUsedAt: row.lastUsedAt?.toISOString() ?? null };
}

/** API tokens carry a prefix so they are recognisable in logs and secret scanners. */
const TOKEN_PREFIX = "fwt_";

/** How long an account-and-address pair must wait after its latest failure: none for the first few, then 1 s, doubling, up to the most. */
export function loginDelayMs(failures: number, failuresBeforeDelay: number, maxDelayMs: number): number {
  if (failures < failuresBeforeDelay) return 0;
  return Math.min(maxDelayMs, 1000 * 2 ** Math.min(failures - failuresBeforeDelay, 30));
}

/** How often a node clears sign-in counters nobody has failed with for a whole window. */
const PURGE_INTERVAL_MS = 60_000;

/** Announces that an operator's credentials changed, so every node re-checks their open connections (broker/control.ts). */
export type OperatorChanged = (userId: string) => Promise<void>;

/**
 * The operator an API token belongs to, or null. Also the broker's check of MQTT sign-ins
 * with a token, which the composition root wires into the gate before this service (which
 * announces operator changes through the broker) can exist.
 */
export async function apiTokenOperator(repository: AuthRepository, token: string): Promise<Operator | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const user = await repository.findUserByTokenHash(sha256(token));
  return user && { userId: user.id, email: user.email, role: user.role, createdAt: user.createdAt, via: "token" };
}

export class AuthService {
  #lastPurge = 0;

  constructor(
    private readonly repository: AuthRepository,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly operatorChanged: OperatorChanged,
  ) {}

  /** On a first start without users: the admin from ADMIN_EMAIL/ADMIN_PASSWORD, or a generated password printed once. */
  async ensureFirstAdmin(): Promise<void> {
    const { email = "admin@fleetwatch.local", password } = this.config.auth.admin;
    const secret = password ?? randomToken(15);
    const created = await this.repository.createFirstAdmin(email, await hashPassword(secret));
    if (!created) return;
    if (password) this.logger.info({ email }, "created the first admin from ADMIN_EMAIL and ADMIN_PASSWORD");
    else
      this.logger.warn(
        `created the first admin: sign in as ${email} with password ${secret} (shown only this once; change it, or set ADMIN_EMAIL and ADMIN_PASSWORD before the first start)`,
      );
  }

  /**
   * Signs in. Guessing is slowed down where it happens, never for the owner elsewhere: failed
   * attempts are counted per source address (failures only: one's own successful sign-ins use
   * up nothing) and per account-and-address pair, which must wait longer after each further
   * failure. No count is kept per account alone, which would let anyone lock any account.
   */
  async login(emailInput: string, password: string, ip: string): Promise<{ sessionToken: string; user: UserRow }> {
    const { windowMs, maxFailuresPerAddress, failuresBeforeDelay, maxDelayMs } = this.config.auth.login;
    const email = emailInput.trim().toLowerCase();
    const address = throttleKey(ip);
    const fromAddress = await this.repository.count(`ip:${address}`, windowMs);
    if (fromAddress.count >= maxFailuresPerAddress)
      throw tooManyRequests("Too many failed sign-ins from this address; try again later", fromAddress.resetsInS);
    const pair = await this.repository.loginFailures(email, address, windowMs);
    const waitMs = pair ? loginDelayMs(pair.failures, failuresBeforeDelay, maxDelayMs) - pair.sinceLastMs : 0;
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw tooManyRequests(`Too many failed sign-ins for this account from this address; try again in ${seconds} s`, seconds);
    }

    const user = await this.repository.findUserByEmail(email);
    // Verify against a dummy hash for unknown emails, so response time does not tell which exist.
    const valid = await verifySecret(password, user?.passwordHash ?? (await unknownAccountHash()));
    this.#purgeStaleCounters(windowMs);
    if (!user || !valid) {
      await this.repository.hit(`ip:${address}`, windowMs);
      const failures = await this.repository.recordLoginFailure(email, address, windowMs);
      this.logger.info({ email, address, failures }, "failed sign-in");
      throw unauthorized("Wrong email or password");
    }
    await this.repository.clearLoginFailures(email, address);
    if (needsRehash(user.passwordHash)) await this.#upgradePasswordHash(user.id, user.passwordHash, password);
    // A fresh random id on every sign-in: a session id planted before sign-in is never promoted.
    const sessionToken = randomToken(32);
    await this.repository.createSession(sha256(sessionToken), user.id, new Date(Date.now() + this.config.auth.sessionTtlMs));
    void this.repository
      .deleteExpiredSessions()
      .catch((error: unknown) => this.logger.warn({ err: error }, "could not purge expired sessions"));
    return { sessionToken, user };
  }

  /** Replaces a weaker hash (scrypt N=2^15, or weaker argon2id) with one at passwordCost; a failure keeps the old one, which still verifies. */
  async #upgradePasswordHash(userId: string, oldHash: string, password: string): Promise<void> {
    try {
      if (await this.repository.replacePasswordHash(userId, oldHash, await hashPassword(password))) {
        this.logger.info({ userId }, "password hash upgraded to argon2id");
      }
    } catch (error) {
      this.logger.warn({ err: error, userId }, "could not upgrade a password hash; the old one keeps working");
    }
  }

  #purgeStaleCounters(windowMs: number): void {
    if (Date.now() - this.#lastPurge < PURGE_INTERVAL_MS) return;
    this.#lastPurge = Date.now();
    void this.repository
      .forgetStaleLoginFailures(windowMs)
      .catch((error: unknown) => this.logger.warn({ err: error }, "could not purge stale sign-in counters"));
  }

  /**
   * The operator's own password, with the current one as proof (a session left open on a
   * shared screen must not be enough to take the account over). Their other sessions end;
   * the one they act from stays.
   */
  async changeOwnPassword(operator: Operator, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.repository.findUser(operator.userId);
    if (!user) throw unauthorized();
    if (!(await verifySecret(currentPassword, user.passwordHash)))
      throw badRequest("The current password is wrong; nothing was changed", "CURRENT_PASSWORD_WRONG");
    await this.repository.updateUser(user.id, { passwordHash: await hashPassword(newPassword) });
    await this.repository.deleteOtherSessionsOf(user.id, operator.sessionToken ? sha256(operator.sessionToken) : null);
    await this.operatorChanged(user.id);
  }

  async logout(sessionToken: string, userId: string): Promise<void> {
    await this.repository.deleteSession(sha256(sessionToken));
    await this.operatorChanged(userId);
  }

  async operatorForSession(sessionToken: string): Promise<Operator | null> {
    const user = await this.repository.findSessionUser(sha256(sessionToken));
    return user && { userId: user.id, email: user.email, role: user.role, createdAt: user.createdAt, via: "session", sessionToken };
  }

  operatorForApiToken(token: string): Promise<Operator | null> {
    return apiTokenOperator(this.repository, token);
  }

  /** Derived from the session's secret id: only a holder of the cookie value, i.e. our own pages via /api/auth/me, can know it. */
  csrfTokenFor(sessionToken: string): string {
    return sha256(`fleetwatch-csrf:${sessionToken}`);
  }

  /** The new token is in this answer only: the database keeps its hash. */
  async createApiToken(userId: string, name: string): Promise<ApiTokenCreated> {
    const token = `${TOKEN_PREFIX}${randomToken(32)}`;
    const row = await this.repository.createApiToken({ userId, name, tokenHash: sha256(token) });
    return { ...toApiToken(row), token };
  }

  async listApiTokens(userId: string): Promise<ApiToken[]> {
    return (await this.repository.listApiTokens(userId)).map(toApiToken);
  }

  async deleteApiToken(id: string, userId: string): Promise<boolean> {
    const deleted = await this.repository.deleteApiToken(id, userId);
    if (deleted) await this.operatorChanged(userId);
    return deleted;
  }
}
