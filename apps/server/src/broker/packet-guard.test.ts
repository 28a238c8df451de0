import { Duplex } from "node:stream";
import fc from "fast-check";
import mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import { splitAt } from "../../../../test/support/raw-mqtt.ts";
import { connectProtocolLevel, type GuardReply, PacketSizeGuard, PacketSizeScanner } from "./packet-guard.ts";

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
    expect(scanner.scan(header(998))?.message).toMatch(/exceeds the 1000-byte limit/);
    expect(new PacketSizeScanner(256 * 1024).scan(header(200 * 1024 * 1024))?.message).toMatch(/exceeds/);
  });

  it("flags a split header as soon as the varint bytes seen already exceed the limit", () => {
    const scanner = new PacketSizeScanner(100);
    expect(scanner.scan(Buffer.from([0x30]))).toBeNull();
    expect(scanner.scan(Buffer.from([0xff]))?.message).toMatch(/exceeds/);
  });

  it("flags a Remaining Length longer than four bytes as malformed [MQTT-2.2.3]", () => {
    expect(new PacketSizeScanner(Number.MAX_SAFE_INTEGER).scan(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatchObject({
      kind: "malformed",
      message: "malformed Remaining Length",
    });
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

/** A CONNECT as a client of this protocol level sends it (3: "MQIsdp", 4 and 5: "MQTT"). */
function connect(level: 3 | 4 | 5, clientId = "c1", extra: Partial<mqttPacket.IConnectPacket> = {}): Buffer {
  return mqttPacket.generate(
    { cmd: "connect", protocolId: level === 3 ? "MQIsdp" : "MQTT", protocolVersion: level, clean: true, keepalive: 30, clientId, ...extra },
    { protocolVersion: level },
  );
}

/**
 * Whether a packet can be `size` bytes on the wire: the Remaining Length's own bytes grow with
 * it, so some sizes are skipped (130: 2 + 128 needs a 2-byte length, making 131; 3 + 127 is 129).
 */
const packetSizeExists = (size: number) => [2, 3, 4].some((headerBytes) => header(size - headerBytes).length === headerBytes);

/** A PUBLISH of `size` bytes on the wire (at least 9, and a size that exists: packetSizeExists). */
function publishOfSize(size: number): Buffer {
  // Topic "t" (3 bytes) + a payload; the header takes 2 to 4 bytes depending on the length.
  for (let headerBytes = 2; headerBytes <= 4; headerBytes++) {
    const packet = Buffer.concat([header(size - headerBytes), Buffer.from([0, 1, 0x74]), Buffer.alloc(size - headerBytes - 3, 0x61)]);
    if (packet.length === size) return packet;
  }
  throw new Error(`no PUBLISH of ${size} bytes`);
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A guard over an in-memory connection: what it let through to the broker, what it wrote to the client, how it ended. */
function guarded(limits: { maxPacketBytes: number; maxConnectBytes?: number }) {
  const written: Buffer[] = [];
  const state = { ended: false, destroyed: false };
  const connection = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
    final(callback) {
      state.ended = true;
      callback();
    },
    destroy(error, callback) {
      state.destroyed = true;
      callback(error);
    },
  });
  const violations: { limit: string; reply: GuardReply | undefined }[] = [];
  const guard = new PacketSizeGuard(connection, limits, (_reason, limit, reply) => violations.push({ limit, reply }));
  const passed: Buffer[] = [];
  guard.on("data", (chunk: Buffer) => passed.push(chunk));
  guard.on("error", () => undefined);
  return {
    guard,
    send: async (chunks: Buffer[]) => {
      for (const chunk of chunks) {
        connection.push(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await settle();
    },
    passed: () => Buffer.concat(passed),
    written: () => Buffer.concat(written),
    violations,
    state,
  };
}

const CONNACK_0x95 = Buffer.from([0x20, 0x03, 0x00, 0x95, 0x00]);
const DISCONNECT_0x95 = Buffer.from([0xe0, 0x02, 0x95, 0x00]);

describe("a CONNECT's protocol level, read from its first bytes", () => {
  it("is read from any CONNECT once its level byte has arrived, unknown before, and null for anything but a CONNECT [MQTT-3.1.2-1]", () => {
    fc.assert(
      fc.property(fc.constantFrom(3 as const, 4 as const, 5 as const), fc.string({ maxLength: 300 }), fc.nat(), (level, clientId, cut) => {
        const bytes = connect(level, clientId.slice(0, level === 3 ? 23 : 300) || "c");
        // Where the level byte is: after the fixed header and the protocol name.
        let at = 1;
        while ((bytes[at++] as number) & 0x80);
        const levelAt = at + 2 + (level === 3 ? 6 : 4);
        const prefix = bytes.subarray(0, cut % (bytes.length + 1));
        expect(connectProtocolLevel(prefix)).toBe(prefix.length > levelAt ? level : undefined);
      }),
    );
    expect(connectProtocolLevel(publishOfSize(20))).toBeNull();
    expect(connectProtocolLevel(Buffer.from([0x10, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x58]))).toBeNull(); // "MQTX"
    expect(connectProtocolLevel(Buffer.from([0x10, 0x10, 0x00, 0x05]))).toBeNull(); // no such protocol name length
  });
});

describe("packet size guard: MQTT 5 reason codes [MQTT-3.2.2-15]", () => {
  it("answers an oversized MQTT 5 CONNECT with CONNACK 0x95 and half-closes, an MQTT 3.1 or 3.1.1 one by closing [MQTT-3.2.2-6], whatever the TCP chunks; none of its body reaches the broker", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(3 as const, 4 as const, 5 as const),
        fc.integer({ min: 101, max: 5_000 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (level, size, points) => {
          // A will makes the CONNECT as large as wanted; its body is never read.
          const bytes = connect(level, "big", { will: { topic: "w", payload: Buffer.alloc(size, 0x61), qos: 0, retain: false } });
          const { send, passed, written, violations, state } = guarded({ maxPacketBytes: 10_000, maxConnectBytes: 100 });
          await send(splitAt(bytes, points));
          // At most the bytes of its fixed header that arrived before the verdict, never its body.
          expect(bytes.subarray(0, passed().length)).toEqual(passed());
          expect(passed().length).toBeLessThanOrEqual(3);
          expect(violations).toEqual([{ limit: "MQTT_MAX_CONNECT_BYTES", reply: level === 5 ? "CONNACK 0x95" : undefined }]);
          if (level === 5) {
            expect(written()).toEqual(CONNACK_0x95);
            expect(state.ended).toBe(true);
          } else {
            expect(written().length).toBe(0);
            expect(state.destroyed).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it("after CONNACK, passes every packet up to the limit through whole and, at the first one above it, sends an MQTT 5 client DISCONNECT 0x95 and closes an MQTT 3.1.1 one, never passing its body on", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(4 as const, 5 as const),
        fc.array(fc.integer({ min: 9, max: 1_300 }).filter(packetSizeExists), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (level, sizes, points) => {
          const limit = 1_000;
          const hello = connect(level);
          const { guard, send, passed, written, violations, state } = guarded({ maxPacketBytes: limit, maxConnectBytes: 100 });
          await send([hello]);
          guard.acceptConnect();
          const packets = sizes.map(publishOfSize);
          await send(splitAt(Buffer.concat(packets), points));

          const over = sizes.findIndex((size) => size > limit);
          const allowed = Buffer.concat([hello, ...packets.slice(0, over === -1 ? packets.length : over)]);
          const through = passed();
          // Whole packets up to the oversized one; of that one at most the bytes of its fixed header that came before the verdict.
          expect(through.subarray(0, allowed.length)).toEqual(allowed);
          expect(through.length - allowed.length).toBeLessThanOrEqual(over === -1 ? 0 : 3);
          if (over === -1) {
            expect(violations).toEqual([]);
            expect(written().length).toBe(0);
            return;
          }
          expect(violations).toEqual([{ limit: "MQTT_MAX_PACKET_BYTES", reply: level === 5 ? "DISCONNECT 0x95" : undefined }]);
          expect(written()).toEqual(level === 5 ? DISCONNECT_0x95 : Buffer.alloc(0));
          expect(level === 5 ? state.ended : state.destroyed).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it("sends nothing after its DISCONNECT, though the broker still writes [MQTT-3.14.4-1], and closes once the client does", async () => {
    const { guard, send, written, state } = guarded({ maxPacketBytes: 1_000 });
    await send([connect(5)]);
    guard.acceptConnect();
    guard.write(Buffer.from([0x40, 0x02, 0x00, 0x01])); // a PUBACK the broker wrote before
    await send([header(5_000)]);
    guard.write(Buffer.from([0x40, 0x02, 0x00, 0x02])); // and one after
    await settle();
    expect(written()).toEqual(Buffer.concat([Buffer.from([0x40, 0x02, 0x00, 0x01]), DISCONNECT_0x95]));
    expect(guard.destroyed).toBe(false);
    expect(state.ended).toBe(true);
  });

  it("answers a malformed Remaining Length after CONNACK with DISCONNECT 0x81 for MQTT 5 [MQTT-2.2.3]", async () => {
    const { guard, send, written } = guarded({ maxPacketBytes: Number.MAX_SAFE_INTEGER });
    await send([connect(5)]);
    guard.acceptConnect();
    await send([Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01])]);
    expect(written()).toEqual(Buffer.from([0xe0, 0x02, 0x81, 0x00]));
  });

  it("closes, without a word, an oversized packet before CONNACK that is not the CONNECT [MQTT-3.14.0-1]", async () => {
    const { send, written, violations, state } = guarded({ maxPacketBytes: 1_000, maxConnectBytes: 100 });
    await send([connect(5), header(500)]);
    expect(written().length).toBe(0);
    expect(violations).toEqual([{ limit: "MQTT_MAX_CONNECT_BYTES", reply: undefined }]);
    expect(state.destroyed).toBe(true);
  });
});
