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
import { Duplex } from "node:stream";

/** Streaming reader of MQTT fixed headers: type byte, then a 1-4 byte varint [MQTT-2.2.3]. */
export class PacketSizeScanner {
  private state: "type" | "length" | "body" = "type";
  private remaining = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private declared = 0;

  constructor(private maxPacketBytes: number) {}

  /** The limit for the packets that follow (the one being read keeps the limit it was checked against). */
  setLimit(maxPacketBytes: number): void {
    this.maxPacketBytes = maxPacketBytes;
  }

  /** Feeds bytes; returns a reason to close the connection, or null while all is well. */
  scan(chunk: Buffer): string | null {
    let i = 0;
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
        continue;
      }
      this.declared += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (1 + this.lengthBytes + this.declared > this.maxPacketBytes) {
        return `packet of at least ${1 + this.lengthBytes + this.declared} bytes exceeds the ${this.maxPacketBytes}-byte limit`;
      }
      if (byte & 0x80) {
        // [MQTT-2.2.3] at most four bytes; a fifth continuation is malformed.
        if (this.lengthBytes === 4) return "malformed Remaining Length";
        continue;
      }
      this.remaining = this.declared;
      this.state = this.remaining === 0 ? "type" : "body";
    }
    return null;
  }
}

export interface PacketLimits {
  /** After the CONNECT is accepted (MQTT_MAX_PACKET_BYTES). */
  maxPacketBytes: number;
  /** Until then (MQTT_MAX_CONNECT_BYTES); at most maxPacketBytes. */
  maxConnectBytes?: number;
}

/**
 * Wraps a transport stream for aedes: writes pass straight through; reads pass the
 * scanner first. `onViolation` is told (with the reason and the variable whose limit was
 * exceeded) before the connection is destroyed.
 */
export class PacketSizeGuard extends Duplex {
  readonly remoteAddress: string | undefined;
  private readonly scanner: PacketSizeScanner;
  private connectAccepted = false;

  constructor(
    private readonly inner: Duplex & { remoteAddress?: string },
    private readonly limits: PacketLimits,
    onViolation: (reason: string, limit: "MQTT_MAX_CONNECT_BYTES" | "MQTT_MAX_PACKET_BYTES") => void,
    remoteAddress?: string,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress ?? inner.remoteAddress;
    this.scanner = new PacketSizeScanner(Math.min(limits.maxConnectBytes ?? limits.maxPacketBytes, limits.maxPacketBytes));
    inner.on("data", (chunk: Buffer) => {
      const violation = this.scanner.scan(chunk);
      if (violation) {
        inner.pause();
        onViolation(violation, this.connectAccepted ? "MQTT_MAX_PACKET_BYTES" : "MQTT_MAX_CONNECT_BYTES");
        this.destroy();
        return;
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

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
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
    this.inner.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map(({ chunk }) => chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }
}
