import { describe, expect, it } from "vitest";
import { CredentialCache, FailureThrottle, TokenBucket } from "./limits.ts";

describe("token bucket", () => {
  it("allows a burst, then the sustained rate", () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 500; // half a second at 2/s: one token
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  });
});

describe("failure throttle", () => {
  it("blocks a key after the limit within the window, and forgets it after", () => {
    let now = 0;
    const throttle = new FailureThrottle(2, 1_000, 100, () => now);
    throttle.fail("a");
    expect(throttle.blocked("a")).toBe(false);
    throttle.fail("a");
    expect(throttle.blocked("a")).toBe(true);
    expect(throttle.blocked("b")).toBe(false);
    now = 1_000;
    expect(throttle.blocked("a")).toBe(false);
  });

  it("stays bounded under a flood of distinct keys", () => {
    const throttle = new FailureThrottle(1, 60_000, 10);
    for (let i = 0; i < 1_000; i++) throttle.fail(`k${i}`);
    expect((throttle as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(10);
  });
});

describe("credential cache", () => {
  it("spares scrypt only for the same device, secret digest and credential version, for a minute", () => {
    let now = 0;
    const cache = new CredentialCache(300_000, 10, () => now);
    cache.remember("pump", "digest", 1);
    expect(cache.matches("pump", "digest", 1)).toBe(true);
    expect(cache.matches("pump", "other", 1)).toBe(false);
    expect(cache.matches("pump", "digest", 2)).toBe(false); // rotated
    expect(cache.matches("valve", "digest", 1)).toBe(false);
    now = 60_000;
    expect(cache.matches("pump", "digest", 1)).toBe(false);
  });

  it("vouches for a secret for the outage age after the database confirmed it or a connection with it ended, never after forget", () => {
    let now = 0;
    const cache = new CredentialCache(1_000, 10, () => now);
    cache.remember("pump", "digest", 1);
    expect(cache.vouches("pump", "digest")).toBe(true);
    expect(cache.vouches("pump", "other")).toBe(false);
    now = 1_001;
    expect(cache.vouches("pump", "digest")).toBe(false);
    cache.refresh("pump", "digest"); // its connection, admitted by the database, just ended
    expect(cache.vouches("pump", "digest")).toBe(true);
    cache.forget("pump"); // rotated, disabled or deleted
    cache.refresh("pump", "digest"); // that connection closing must not bring it back
    expect(cache.vouches("pump", "digest")).toBe(false);
    expect(new CredentialCache(0, 10, () => now).vouches("pump", "digest")).toBe(false);
  });

  it("stays bounded", () => {
    const cache = new CredentialCache(1_000, 3);
    for (let i = 0; i < 10; i++) cache.remember(`d${i}`, "digest", 1);
    expect((cache as unknown as { entries: Map<string, unknown> }).entries.size).toBe(3);
    expect(cache.vouches("d9", "digest")).toBe(true);
    expect(cache.vouches("d0", "digest")).toBe(false);
  });
});
