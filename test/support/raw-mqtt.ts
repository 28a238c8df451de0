// A raw MQTT 3.1.1 (or 5) connection over a net socket: the test writes exactly the packets it
// wants (a DUP retransmission, a PUBREL that never comes) and nothing is retransmitted for it,
// as a client library would.
import { connect } from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";
import { remainingLength } from "./mqtt.ts";

export interface RawMqttClient {
  send(packet: Packet): void;
  /** Writes bytes as they are, for packets mqtt-packet would not generate (a topic of arbitrary bytes). */
  sendBytes(bytes: Buffer): void;
  /** The next received packet of this type (also one that arrived earlier and was not taken yet). */
  next(cmd: Packet["cmd"], timeoutMs?: number): Promise<Packet>;
  /** The server's CONNACK. */
  connack: Packet;
  /** How many packets of this type arrived and were not taken by next() yet. */
  pending(cmd: Packet["cmd"]): number;
  /** Resolves when the connection closes (for a refusal: the server closed it). */
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

export async function connectRaw(
  port: number,
  clientId: string,
  options: {
    clean: boolean;
    username?: string;
    password?: string;
    protocolVersion?: 4 | 5;
    /** MQTT 5 CONNECT properties (Receive Maximum, Topic Alias Maximum, Session Expiry Interval, ...). */
    properties?: Record<string, unknown>;
  },
): Promise<RawMqttClient> {
  const protocolVersion = options.protocolVersion ?? 4;
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion });
  const received: Packet[] = [];
  const waiters: { cmd: string; resolve(packet: Packet): void }[] = [];
  parser.on("packet", (packet: Packet) => {
    const i = waiters.findIndex((w) => w.cmd === packet.cmd);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(packet);
    else received.push(packet);
  });
  socket.on("data", (chunk) => parser.parse(chunk));
  socket.on("error", () => undefined);
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      isClosed = true;
      resolve();
    }),
  );
  const client: Omit<RawMqttClient, "connack"> = {
    pending: (cmd) => received.filter((p) => p.cmd === cmd).length,
    send: (packet) => void socket.write(mqttPacket.generate(packet, { protocolVersion })),
    sendBytes: (bytes) => void socket.write(bytes),
    closed,
    isClosed: () => isClosed,
    next: (cmd, timeoutMs = 5_000) =>
      new Promise<Packet>((resolve, reject) => {
        const i = received.findIndex((p) => p.cmd === cmd);
        if (i >= 0) return resolve(received.splice(i, 1)[0]!);
        const timer = setTimeout(() => reject(new Error(`no ${cmd} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ cmd, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      }),
    close: () => socket.destroy(),
  };
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  client.send({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion,
    clientId,
    clean: options.clean,
    keepalive: 30,
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: Buffer.from(options.password) } : {}),
    ...(options.properties ? { properties: options.properties } : {}),
  });
  const connack = await client.next("connack");
  const { returnCode, reasonCode } = connack as { returnCode?: number; reasonCode?: number };
  if ((reasonCode ?? returnCode) !== 0) throw new Error(`CONNACK refused: ${JSON.stringify(connack)}`);
  return { ...client, connack };
}

/** A QoS 2 PUBLISH. */
export const qos2Publish = (topic: string, messageId: number, payload: string, dup = false): Packet => ({
  cmd: "publish",
  topic,
  payload: Buffer.from(payload),
  qos: 2,
  messageId,
  dup,
  retain: false,
});

/** A PUBLISH whose topic is the given bytes, whatever they are (ill-formed UTF-8, U+0000) [MQTT-3.3]. */
export function publishBytes({
  topic,
  payload,
  qos,
  messageId,
  retain = false,
}: {
  topic: Buffer;
  payload: Buffer;
  qos: 0 | 1 | 2;
  messageId?: number;
  retain?: boolean;
}): Buffer {
  const id = qos > 0 ? Buffer.from([(messageId ?? 1) >> 8, (messageId ?? 1) & 0xff]) : Buffer.alloc(0);
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, id, payload]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1) | (retain ? 1 : 0)]), remainingLength(body.length), body]);
}

/**
 * Cuts `bytes` into the chunks TCP could deliver them in: at the given points (any order, taken
 * modulo the length + 1; duplicates and cuts at either end add no chunk). For fast-check's `fc.nat()`s.
 */
export function splitAt(bytes: Buffer, points: number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) chunks.push(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return chunks;
}
