// MQTT helpers for tests: real clients (mqtt.js) and hand-made packets for what mqtt.js
// refuses to send (a zero-length clientId without a clean session, oversized headers).
import { connect as connectTcp, type Socket } from "node:net";
import mqtt, { type IClientOptions, type MqttClient, type Packet } from "mqtt";

/** The CONNACK return code a CONNECT with these options gets: 0 when accepted (the client is then closed). */
export async function connackCode(url: string, options: IClientOptions): Promise<number> {
  try {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    await client.endAsync(true);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "number") return code;
    throw error;
  }
}

export async function connectClient(url: string, options: IClientOptions, track?: MqttClient[]): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  track?.push(client);
  return client;
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once("close", () => resolve()) : resolve()));
}

const utf8 = (value: string) => {
  const bytes = Buffer.from(value, "utf8");
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

/** An MQTT 3.1.1 CONNECT packet [MQTT-3.1]. */
export function connectPacket({
  clientId,
  clean,
  keepalive = 30,
  username,
  password,
}: {
  clientId: string;
  clean: boolean;
  keepalive?: number;
  username?: string;
  password?: string;
}): Buffer {
  const flags = (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0) | (clean ? 0x02 : 0);
  const body = Buffer.concat([
    utf8("MQTT"),
    Buffer.from([4, flags, keepalive >> 8, keepalive & 0xff]),
    utf8(clientId),
    ...(username !== undefined ? [utf8(username)] : []),
    ...(password !== undefined ? [utf8(password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** Opens a raw TCP socket to an mqtt:// URL, from `localAddress` when given (any of 127.0.0.0/8 works on Linux). */
export function rawSocket(url: string, localAddress?: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Sends a CONNECT on a raw socket; resolves with the CONNACK return code and whether the server then closed the socket. */
export async function rawConnack(
  url: string,
  packet: Buffer,
  localAddress?: string,
): Promise<{ returnCode: number; closedByServer: boolean }> {
  const socket = await rawSocket(url, localAddress);
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    socket.on("data", (chunk) => (data = Buffer.concat([data, chunk])));
    socket.on("error", () => undefined);
    socket.once("close", () => {
      if (data.length < 4 || data[0] !== 0x20) return reject(new Error(`no CONNACK before close: ${data.toString("hex")}`));
      resolve({ returnCode: data[3] as number, closedByServer: true });
    });
    socket.write(packet);
  });
}

/** Sends a CONNECT on a raw socket (from `localAddress` when given); resolves with the CONNACK return code, then closes the socket. */
export async function connackCodeFrom(url: string, packet: Buffer, localAddress?: string): Promise<number> {
  const socket = await rawSocket(url, localAddress);
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4) return;
      socket.destroy();
      if (data[0] !== 0x20) return reject(new Error(`not a CONNACK: ${data.toString("hex")}`));
      resolve(data[3] as number);
    });
    socket.once("close", () => reject(new Error(`no CONNACK before close: ${data.toString("hex")}`)));
    socket.write(packet);
  });
}

/** The SUBACK return codes for a SUBSCRIBE (mqtt.js turns 0x80 into an error; the codes are what we check). */
export function subackCodes(client: MqttClient, filter: string | string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== "suback") return;
      client.off("packetreceive", onPacket);
      resolve(packet.granted.map((g) => (typeof g === "number" ? g : (g as { qos: number }).qos)));
    };
    client.on("packetreceive", onPacket);
    client.subscribe(filter, { qos }, () => undefined);
  });
}
