// Small per-node limiters used by the gate. They hold process memory on purpose: each one
// bounds work this node does (CPU for password checks, one connection's publish rate) or
// keeps this node's own devices connectable, so per-node state is correct here and two
// nodes never need to agree on it.

/** Token bucket for one connection's publish rate: `rate` per second sustained, `burst` at once. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Counts failures per key (a source address) in fixed one-minute windows. In memory per
 * node: it only caps the scrypt work one node spends on one attacker; the devices' own
 * secrets are 256-bit random, so it is not what keeps them safe.
 */
export class FailureThrottle {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  blocked(key: string): boolean {
    const entry = this.windows.get(key);
    return entry !== undefined && this.now() - entry.start < this.windowMs && entry.count >= this.limit;
  }

  /** Counts a failure; returns the key's count in the current window. */
  fail(key: string): number {
    const now = this.now();
    const entry = this.windows.get(key);
    if (entry && now - entry.start < this.windowMs) return ++entry.count;
    if (this.windows.size >= this.maxKeys) this.prune(now);
    this.windows.set(key, { start: now, count: 1 });
    return 1;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.windows) if (now - entry.start >= this.windowMs) this.windows.delete(key);
    // Still full (a flood of distinct keys): forget the oldest half rather than grow.
    if (this.windows.size >= this.maxKeys) {
      let drop = Math.floor(this.maxKeys / 2);
      for (const key of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(key);
      }
    }
  }
}

/**
 * Device secrets this node verified against the database, by device. Matched by the SHA-256
 * of the presented secret; the secret itself is never kept. Three uses:
 * - a reconnect storm skips scrypt for a secret verified before, while the credential version
 *   read from the database on this very CONNECT still matches (rotation bumps it), within
 *   SKIP_SCRYPT_MS;
 * - while the database cannot be reached, a device whose secret was vouched for within
 *   `outageMaxAgeMs` is let in: MQTT.js and many device stacks give up for good after a
 *   refused CONNACK, and would stay away after the database returns;
 * - an address throttled for failed CONNECTs still lets in a secret vouched for within that
 *   age, so a neighbour behind the same NAT cannot lock a device out.
 * A secret is vouched for when the database confirms it, and again when a connection that
 * the database admitted with it ends (it was valid all along: revocation forgets the entry
 * before it closes the connection). Rotating, disabling and deleting a device forget its
 * entry on every node (control.ts).
 */
export class CredentialCache {
  private readonly entries = new Map<string, { digest: string; version: number; vouchedAt: number }>();

  constructor(
    private readonly outageMaxAgeMs: number,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The secret verified under this credential version (the database's, read on this CONNECT): no need to run scrypt again. */
  matches(deviceId: string, digest: string, version: number): boolean {
    const entry = this.entries.get(deviceId);
    return entry !== undefined && entry.digest === digest && entry.version === version && this.now() - entry.vouchedAt < SKIP_SCRYPT_MS;
  }

  /** The secret was vouched for within the outage age: enough while the database cannot say. */
  vouches(deviceId: string, digest: string): boolean {
    const entry = this.entries.get(deviceId);
    return entry !== undefined && entry.digest === digest && this.now() - entry.vouchedAt <= this.outageMaxAgeMs;
  }

  /** The database confirmed the secret. */
  remember(deviceId: string, digest: string, version: number): void {
    this.entries.delete(deviceId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(deviceId, { digest, version, vouchedAt: this.now() });
  }

  /** A connection the database admitted with this secret ended: the secret was valid until now. Never re-adds a forgotten entry. */
  refresh(deviceId: string, digest: string): void {
    const entry = this.entries.get(deviceId);
    if (entry?.digest !== digest) return;
    this.entries.delete(deviceId);
    this.entries.set(deviceId, { ...entry, vouchedAt: this.now() });
  }

  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }
}

/** How long a verified secret spares scrypt (with the database's credential version checked on every CONNECT). */
const SKIP_SCRYPT_MS = 60_000;

/** Event counters of this node's broker, for GET /api/broker/stats and the logs. */
export class BrokerCounters {
  private readonly values = new Map<string, number>();

  increment(name: BrokerCounter): void {
    this.values.set(name, (this.values.get(name) ?? 0) + 1);
  }

  get(name: BrokerCounter): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => a.localeCompare(b)));
  }
}

export type BrokerCounter =
  | "connect_refused_identifier"
  | "connect_refused_credentials"
  | "connect_refused_not_authorized"
  | "connect_refused_keepalive"
  | "connect_refused_will"
  | "connect_throttled"
  | "connect_from_cache"
  | "connect_timeout"
  | "connections_over_limit"
  | "packet_too_large"
  | "protocol_violation"
  | "publish_denied"
  | "publish_over_client_maximum"
  | "publish_over_client_receive_maximum"
  | "publish_rate_exceeded"
  | "subscribe_denied"
  | "topic_too_long";
