import { Duplex } from "node:stream";
import { describe, expect, it } from "vitest";
import { PacketSizeGuard, PacketSizeScanner } from "./packet-guard.ts";

/** Fixed header of a PUBLISH with the given Remaining Length [MQTT-2.2.3]. */
function header(remainingLength: number): Buffer {
  const bytes = [0x30];
  let x = remainingLength;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    bytes.push(byte);
  } while (x > 0);
  return Buffer.from(bytes);
}

describe("packet size scanner", () => {
  it("lets packets up to the limit through, across chunk boundaries", () => {
    const scanner = new PacketSizeScanner(1_000);
    const packet = Buffer.concat([header(997), Buffer.alloc(997)]); // 1 + 2 + 997 = 1000 bytes
    const stream = Buffer.concat([packet, packet, Buffer.from([0xc0, 0x00])]); // two PUBLISH, a PINGREQ
    for (let i = 0; i < stream.length; i += 7) expect(scanner.scan(stream.subarray(i, i + 7))).toBeNull();
  });

  it("flags a header that declares more than the limit, before its body arrives", () => {
    const scanner = new PacketSizeScanner(1_000);
    expect(scanner.scan(header(998))).toMatch(/exceeds the 1000-byte limit/);
    expect(new PacketSizeScanner(256 * 1024).scan(header(200 * 1024 * 1024))).toMatch(/exceeds/);
  });

  it("flags a split header as soon as the varint bytes seen already exceed the limit", () => {
    const scanner = new PacketSizeScanner(100);
    expect(scanner.scan(Buffer.from([0x30]))).toBeNull();
    expect(scanner.scan(Buffer.from([0xff]))).toMatch(/exceeds/);
  });

  it("flags a Remaining Length longer than four bytes as malformed [MQTT-2.2.3]", () => {
    expect(new PacketSizeScanner(Number.MAX_SAFE_INTEGER).scan(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe(
      "malformed Remaining Length",
    );
  });
});

describe("packet size guard", () => {
  it("holds packets to the small pre-CONNECT limit until the CONNECT is accepted, then to the full one", async () => {
    const delivered = () => new Promise((resolve) => setImmediate(resolve));
    const connection = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    const violations: string[] = [];
    const guard = new PacketSizeGuard(connection, { maxPacketBytes: 1_000, maxConnectBytes: 100 }, (reason, limit) =>
      violations.push(`${limit}: ${reason}`),
    );
    guard.on("error", () => undefined);
    guard.resume();
    connection.push(Buffer.concat([header(97), Buffer.alloc(97)])); // 100 bytes: allowed
    await delivered();
    guard.acceptConnect();
    connection.push(Buffer.concat([header(997), Buffer.alloc(997)])); // 1,000 bytes: allowed after CONNACK
    await delivered();
    expect(violations).toEqual([]);
    connection.push(header(998));
    await delivered();
    expect(violations).toEqual(["MQTT_MAX_PACKET_BYTES: packet of at least 1001 bytes exceeds the 1000-byte limit"]);

    const early: string[] = [];
    const before = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
    const guarded = new PacketSizeGuard(before, { maxPacketBytes: 1_000, maxConnectBytes: 100 }, (reason, limit) =>
      early.push(`${limit}: ${reason}`),
    );
    guarded.on("error", () => undefined);
    guarded.resume();
    before.push(header(99));
    await delivered();
    expect(early).toEqual(["MQTT_MAX_CONNECT_BYTES: packet of at least 101 bytes exceeds the 100-byte limit"]);
  });

  it("passes a packet written in corked pieces (as mqtt-packet writes a PUBACK) to the connection as one write", async () => {
    const writes: Buffer[] = [];
    const connection = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        writes.push(chunk);
        callback();
      },
    });
    const guard = new PacketSizeGuard(connection, { maxPacketBytes: 1_000 }, () => undefined);
    guard.cork();
    for (const piece of [[0x40], [0x02], [0x00, 0x2a]]) guard.write(Buffer.from(piece));
    process.nextTick(() => guard.uncork());
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([Buffer.from([0x40, 0x02, 0x00, 0x2a])]);
  });
});
