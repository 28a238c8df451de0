import { describe, expect, it } from "vitest";
import { FailureThrottle, TokenBucket, VerifiedSecretCache } from "./limits.ts";

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

describe("verified secret cache", () => {
  it("matches only the same device, secret digest and credential version, until the TTL", () => {
    let now = 0;
    const cache = new VerifiedSecretCache(1_000, 10, () => now);
    cache.remember("pump", "digest", 1);
    expect(cache.has("pump", "digest", 1)).toBe(true);
    expect(cache.has("pump", "other", 1)).toBe(false);
    expect(cache.has("pump", "digest", 2)).toBe(false); // rotated
    expect(cache.has("valve", "digest", 1)).toBe(false);
    now = 1_000;
    expect(cache.has("pump", "digest", 1)).toBe(false);
  });
});
