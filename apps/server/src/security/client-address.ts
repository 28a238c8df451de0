// Which clients count as one for the failure throttles (MQTT CONNECT, dashboard sign-in): an
// IPv4 address, or an IPv6 /64. One subscriber's network is a /64, and whoever holds one can
// rotate through its 2^64 addresses, so a per-address key would not slow them down.
import { isIPv4, isIPv6 } from "node:net";

/** "192.0.2.7" → "192.0.2.7"; "::ffff:192.0.2.7" → "192.0.2.7"; "2001:db8:0:1:a:b:c:d" → "2001:db8:0:1::/64". */
export function throttleKey(address: string): string {
  const withoutZone = address.split("%")[0] ?? address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(withoutZone)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (!isIPv6(withoutZone)) return withoutZone;
  return `${ipv6Groups(withoutZone).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in lower-case hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (64:ff9b::192.0.2.1) is the last two groups.
  const ipv4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (ipv4) {
    const [a, b, c, d] = ipv4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((group) => parseInt(group, 16).toString(16));
}
