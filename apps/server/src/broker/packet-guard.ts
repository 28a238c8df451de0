// Enforces the maximum MQTT packet size BEFORE a packet is buffered. aedes 1.2 has no such
// option: its parser collects a whole packet in memory however large the Remaining Length
// claims it to be. This stream sits between the transport (TCP, TLS, WebSocket) and aedes,
// reads each fixed header's Remaining Length as it streams past, and destroys the
// connection as soon as a header announces a packet over the limit: the body never gets
// buffered, so a client claiming a 200 MB packet costs us one socket read.
//
// Until the broker accepts the connection's CONNECT, the limit is a small one
// (MQTT_MAX_CONNECT_BYTES): a CONNECT rarely needs more than a few KB, and a socket that
// declares a large CONNECT and never finishes it would otherwise hold up to the full packet
// size for the whole connect timeout, before anyone knows who it is.
//
// An MQTT 5 client is told why (section 4.13): an oversized CONNECT gets CONNACK 0x95
// (Packet too large), an oversized packet after CONNACK DISCONNECT 0x95 [MQTT-3.2.2-15], a
// malformed Remaining Length after CONNACK DISCONNECT 0x81. The guard learns the protocol
// version from the first bytes of the CONNECT (at most HEAD_BYTES of them, never the body).
// MQTT 3.1.1 has no such codes: its connection is closed without a word, as
// [MQTT-3.2.2-6] asks when no CONNACK return code applies.
import { Duplex } from "node:stream";
import mqttPacket from "mqtt-packet";

/** What the scanner found wrong with the packet being read. */
export interface ScanViolation {
  kind: "too-large" | "malformed";
  message: string;
  /** The packet's position in the stream (0: the first, which must be the CONNECT [MQTT-3.1.0-1]). */
  packetIndex: number;
  /** Where the packet starts in the chunk just scanned (0 when it started in an earlier one): the bytes before it are whole packets. */
  startOffset: number;
}

/** Streaming reader of MQTT fixed headers: type byte, then a 1-4 byte varint [MQTT-2.2.3]. */
export class PacketSizeScanner {
  private state: "type" | "length" | "body" = "type";
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private declared = 0;
  private packets = 0;

  constructor(private maxPacketBytes: number) {}

  /** The limit for the packets that follow (the one being read keeps the limit it was checked against). */
  setLimit(maxPacketBytes: number): void {
    this.maxPacketBytes = maxPacketBytes;
  }

  /** Feeds bytes; returns what is wrong, or null while all is well. */
  scan(chunk: Buffer): ScanViolation | null {
    let i = 0;
    let start = 0;
    while (i < chunk.length) {
      if (this.state === "body") {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) this.state = "type";
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.state === "type") {
        this.state = "length";
        this.declared = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.packets += 1;
        start = i - 1;
        continue;
      }
      this.declared += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (1 + this.lengthBytes + this.declared > this.maxPacketBytes) {
        const message = `packet of at least ${1 + this.lengthBytes + this.declared} bytes exceeds the ${this.maxPacketBytes}-byte limit`;
        return { kind: "too-large", message, packetIndex: this.packets - 1, startOffset: start };
      }
      if (byte & 0x80) {
        // [MQTT-2.2.3] at most four bytes; a fifth continuation is malformed.
        if (this.lengthBytes === 4)
          return { kind: "malformed", message: "malformed Remaining Length", packetIndex: this.packets - 1, startOffset: start };
        continue;
      }
      this.remaining = this.declared;
      this.state = this.remaining === 0 ? "type" : "body";
    }
    return null;
  }
}

/**
 * Enough of a stream's first bytes to read a CONNECT's protocol level: type, Remaining Length
 * (up to 4 bytes), the protocol name's length and the name ("MQIsdp" is the longest), the level.
 */
export const HEAD_BYTES = 1 + 4 + 2 + 6 + 1;

/**
 * The protocol level of the CONNECT that starts `head` (3: MQTT 3.1, 4: 3.1.1, 5: MQTT 5)
 * [MQTT-3.1.2-1, MQTT-3.1.2-2]; undefined while too few bytes have arrived to tell; null when
 * the stream does not start with a CONNECT carrying the name "MQTT" or "MQIsdp".
 */
export function connectProtocolLevel(head: Buffer): number | null | undefined {
  if (head.length === 0) return undefined;
  if (head[0] !== 0x10) return null;
  let at = 1;
  for (;;) {
    if (at >= head.length) return undefined;
    const byte = head[at++] as number;
    if ((byte & 0x80) === 0) break;
    if (at === 5) return null; // a fifth Remaining Length byte [MQTT-2.2.3]
  }
  if (head.length < at + 2) return undefined;
  const nameLength = head.readUInt16BE(at);
  const name = nameLength === 4 ? "MQTT" : nameLength === 6 ? "MQIsdp" : null;
  if (name === null) return null;
  const levelAt = at + 2 + nameLength;
  // Compared as far as it has arrived: a wrong byte is known to be wrong at once.
  const arrivedName = head.subarray(at + 2, Math.min(levelAt, head.length)).toString("latin1");
  if (!name.startsWith(arrivedName)) return null;
  if (head.length <= levelAt) return undefined;
  return head[levelAt];
}

/** What an MQTT 5 client is sent before the close. */
const REPLIES = {
  "CONNACK 0x95": mqttPacket.generate({ cmd: "connack", sessionPresent: false, reasonCode: 0x95 }, { protocolVersion: 5 }),
  "DISCONNECT 0x95": mqttPacket.generate({ cmd: "disconnect", reasonCode: 0x95 }, { protocolVersion: 5 }),
  "DISCONNECT 0x81": mqttPacket.generate({ cmd: "disconnect", reasonCode: 0x81 }, { protocolVersion: 5 }),
} as const;
export type GuardReply = keyof typeof REPLIES;

/**
 * After the reply, how long the connection is kept open at most, reading and discarding what
 * the client still sends: closing a socket with unread bytes makes the kernel send a reset at
 * once, which can destroy the reply before the client has read it. Bounded, so a client that
 * neither reads nor closes costs this long, no more.
 */
export const REPLY_LINGER_MS = 2_000;

export interface PacketLimits {
  /** After the CONNECT is accepted (MQTT_MAX_PACKET_BYTES). */
  maxPacketBytes: number;
  /** Until then (MQTT_MAX_CONNECT_BYTES); at most maxPacketBytes. */
  maxConnectBytes?: number;
}

export type PacketLimitName = "MQTT_MAX_CONNECT_BYTES" | "MQTT_MAX_PACKET_BYTES";

/**
 * Wraps a transport stream for aedes: writes pass straight through; reads pass the
 * scanner first. `onViolation` is told (with the reason, the variable whose limit was
 * exceeded, and the MQTT 5 reply if one is sent) once the guard has decided how to close.
 */
export class PacketSizeGuard extends Duplex {
  readonly remoteAddress: string | undefined;
  private readonly scanner: PacketSizeScanner;
  private connectAccepted = false;
  /** The stream's first HEAD_BYTES bytes: where the CONNECT's protocol level is. */
  private head = Buffer.alloc(0);
  private violation: { scan: ScanViolation; limit: PacketLimitName; reported: boolean } | undefined;
  /** The reply written through this stream's writable side; what aedes writes after it is dropped [MQTT-3.14.4-1]. */
  private reply: Buffer | undefined;
  private replied = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: Duplex & { remoteAddress?: string },
    private readonly limits: PacketLimits,
    private readonly onViolation: (reason: string, limit: PacketLimitName, reply?: GuardReply) => void,
    remoteAddress?: string,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress ?? inner.remoteAddress;
    this.scanner = new PacketSizeScanner(Math.min(limits.maxConnectBytes ?? limits.maxPacketBytes, limits.maxPacketBytes));
    inner.on("data", (chunk: Buffer) => {
      if (this.head.length < HEAD_BYTES) this.head = Buffer.concat([this.head, chunk.subarray(0, HEAD_BYTES - this.head.length)]);
      // Refusing: the client's further bytes are read and dropped, never buffered.
      if (this.violation) return this.decide();
      const violation = this.scanner.scan(chunk);
      if (violation) {
        this.violation = {
          scan: violation,
          limit: this.connectAccepted ? "MQTT_MAX_PACKET_BYTES" : "MQTT_MAX_CONNECT_BYTES",
          reported: false,
        };
        // The whole packets before it still reach the broker; not a byte of its body does.
        if (violation.startOffset > 0) this.push(chunk.subarray(0, violation.startOffset));
        return this.decide();
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.once("end", () => this.push(null));
    inner.once("error", (error) => this.destroy(error));
    inner.once("close", () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** The broker accepted the CONNECT (CONNACK 0): packets up to maxPacketBytes from now on. */
  acceptConnect(): void {
    this.connectAccepted = true;
    this.scanner.setLimit(this.limits.maxPacketBytes);
  }

  /** The protocol level of the connection's CONNECT (5: MQTT 5), once its first bytes have arrived. */
  get protocolLevel(): number | null | undefined {
    return connectProtocolLevel(this.head);
  }

  /** How to close after a violation: with an MQTT 5 reply, or without a word. */
  private decide(): void {
    const violation = this.violation;
    if (!violation || violation.reported) return;
    const level = this.protocolLevel;
    let reply: GuardReply | undefined;
    if (this.connectAccepted) {
      // [MQTT-3.2.2-15], section 4.13: DISCONNECT with the reason, then close.
      if (level === 5) reply = violation.scan.kind === "too-large" ? "DISCONNECT 0x95" : "DISCONNECT 0x81";
    } else if (violation.scan.packetIndex === 0 && violation.scan.kind === "too-large") {
      // The CONNECT itself: its protocol level is a few bytes into its body. Wait for them
      // (reading and dropping the rest); a client that stops sending is closed by the connect timeout.
      if (level === undefined) {
        this.inner.resume();
        return;
      }
      // MQTT 5: CONNACK 0x95, then close [MQTT-3.2.2-7]. MQTT 3.1.1 has no return code for it:
      // close without a CONNACK [MQTT-3.2.2-6].
      if (level === 5) reply = "CONNACK 0x95";
    }
    // (Before CONNACK, no DISCONNECT may be sent [MQTT-3.14.0-1]: any other packet just closes.)
    violation.reported = true;
    this.onViolation(violation.scan.message, violation.limit, reply);
    if (reply === undefined || !this.writable) {
      this.inner.pause();
      this.destroy();
      return;
    }
    this.inner.resume();
    this.lingerTimer = setTimeout(() => this.destroy(), REPLY_LINGER_MS);
    this.lingerTimer.unref();
    this.reply = Buffer.from(REPLIES[reply]);
    // Through this stream's own writable side: after every packet aedes wrote before, whole.
    this.write(this.reply);
  }

  override _read(): void {
    if (!this.violation) this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.reply !== undefined) return this._writev([{ chunk }], callback);
    if (this.inner.destroyed) return callback(new Error("connection closed"));
    this.inner.write(chunk, callback);
  }

  // aedes writes each packet through mqtt-packet, which corks the stream and writes a packet
  // in pieces (a PUBACK is three writes: type, length, packet id). Without _writev each
  // piece would be its own socket write, so its own syscall and, with noDelay, its own TCP
  // segment: under the ingest benchmark these writes were a quarter of the server's CPU.
  // Passing the corked pieces on as one buffer makes a packet one write, as on a bare socket.
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) return callback(new Error("connection closed"));
    // Nothing after the reply [MQTT-3.14.4-1]: aedes is told it was written; the close follows.
    if (this.replied) return callback();
    const replyAt = this.reply === undefined ? -1 : chunks.findIndex(({ chunk }) => chunk === this.reply);
    const passed = replyAt === -1 ? chunks : chunks.slice(0, replyAt + 1);
    const data = passed.length === 1 ? passed[0]!.chunk : Buffer.concat(passed.map(({ chunk }) => chunk));
    if (replyAt === -1) return void this.inner.write(data, callback);
    this.replied = true;
    // The reply is on its way: half-close (FIN after it), and wait for the client to close
    // while dropping what it still sends, until REPLY_LINGER_MS at most.
    this.inner.write(data, (error) => {
      callback(error);
      if (error) this.destroy();
      else this.inner.end();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.replied) return callback();
    this.inner.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.lingerTimer);
    // Closed before the guard could decide (a CONNECT that stopped before its protocol level).
    if (this.violation && !this.violation.reported) {
      this.violation.reported = true;
      this.onViolation(this.violation.scan.message, this.violation.limit);
    }
    this.inner.destroy();
    callback(error);
  }
}
