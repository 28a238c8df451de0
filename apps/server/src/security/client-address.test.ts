import { describe, expect, it } from "vitest";
import { throttleKey } from "./client-address.ts";

describe("throttle keys", () => {
  it("keeps an IPv4 address whole, also when it arrives IPv4-mapped", () => {
    expect(throttleKey("192.0.2.7")).toBe("192.0.2.7");
    expect(throttleKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(throttleKey("::FFFF:192.0.2.7")).toBe("192.0.2.7");
  });

  it("groups IPv6 addresses by /64, whatever their spelling", () => {
    const key = throttleKey("2001:db8:0:1:a:b:c:d");
    expect(key).toBe("2001:db8:0:1::/64");
    for (const same of ["2001:db8::1:ffff:ffff:ffff:ffff", "2001:0db8:0000:0001::", "2001:DB8:0:1::42%eth0"])
      expect(throttleKey(same)).toBe(key);
    expect(throttleKey("2001:db8:0:2::1")).not.toBe(key);
    expect(throttleKey("::1")).toBe("0:0:0:0::/64");
    expect(throttleKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("leaves anything that is not an address as it is", () => {
    expect(throttleKey("unknown")).toBe("unknown");
  });
});
