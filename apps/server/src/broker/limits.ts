// Small per-node limiters used by the gate. They hold process memory on purpose: each one
// bounds work this node does (CPU for password checks, one connection's publish rate), so
// per-node state is correct here and two nodes never need to agree on it.

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
 * Counts failures per key (an address, a clientId) in fixed one-minute windows. In memory
 * per node: it only caps the scrypt work one node spends on one attacker; the devices' own
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

  fail(key: string): void {
    const now = this.now();
    const entry = this.windows.get(key);
    if (entry && now - entry.start < this.windowMs) {
      entry.count += 1;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.prune(now);
    this.windows.set(key, { start: now, count: 1 });
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
 * Remembers secrets that verified recently, so a reconnect storm does not run scrypt for
 * every device again. Safe per node: an entry only matches the same device, the same
 * presented secret (by SHA-256) AND the credential version read from the database on this
 * very CONNECT; rotation bumps the version, so an old secret stops matching at once, and a
 * disabled device is refused from the database row before the cache is consulted.
 */
export class VerifiedSecretCache {
  private readonly entries = new Map<string, { digest: string; version: number; expires: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  has(deviceId: string, digest: string, version: number): boolean {
    const entry = this.entries.get(deviceId);
    if (!entry) return false;
    if (entry.expires <= this.now()) {
      this.entries.delete(deviceId);
      return false;
    }
    return entry.digest === digest && entry.version === version;
  }

  remember(deviceId: string, digest: string, version: number): void {
    this.entries.delete(deviceId);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(deviceId, { digest, version, expires: this.now() + this.ttlMs });
  }
}

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
  | "connect_timeout"
  | "connections_over_limit"
  | "packet_too_large"
  | "protocol_violation"
  | "publish_denied"
  | "publish_rate_exceeded"
  | "subscribe_denied"
  | "topic_too_long";
