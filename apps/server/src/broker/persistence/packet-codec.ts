// How packets are stored in PostgreSQL: the payload as bytea (plus whether it was a string),
// every other own field as jsonb. aedes expects packets back exactly as it stored them
// (the abstract persistence suite compares them deeply), so Buffers and keys whose value is
// undefined (aedes-packet sets `messageId: undefined`) survive the round trip through JSON.
import { createRequire } from "node:module";

/** A packet as aedes hands it to the persistence: mqtt-packet fields plus aedes' own. */
export type StoredPacket = Record<string, unknown> & {
  cmd?: string;
  topic?: string;
  payload?: Buffer | Uint8Array | string;
  qos?: number;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  clientId?: string;
};

export interface EncodedPacket {
  fields: string;
  payload: Buffer | null;
  payloadIsString: boolean;
}

const BYTES = "$bytes";
const UNDEFINED = "$undefined";

/**
 * aedes-packet's copy, which keeps what a broker forwards and stamps brokerId/brokerCounter;
 * the in-memory persistence stores exactly this shape, so ours does too. Loaded through
 * require: the package's type declarations do not describe its CommonJS export.
 */
export const AedesPacket = createRequire(import.meta.url)("aedes-packet") as new (
  original: object,
  broker?: { id: string; counter: number },
) => StoredPacket;

/** A JSON-safe copy of a value: Buffers as base64, undefined kept (see decodeValue). */
export function encodeValue(value: unknown): unknown {
  if (value === undefined) return { [UNDEFINED]: true };
  if (value instanceof Uint8Array) return { [BYTES]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (typeof inner === "function" || typeof inner === "symbol") continue;
      out[key] = encodeValue(inner);
    }
    return out;
  }
  return value;
}

export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === UNDEFINED) return undefined;
    if (keys.length === 1 && keys[0] === BYTES && typeof record[BYTES] === "string") return Buffer.from(record[BYTES], "base64");
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = decodeValue(record[key]);
    return out;
  }
  return value;
}

export function encodePacket(packet: object): EncodedPacket {
  const { payload, ...fields } = packet as StoredPacket;
  const hasPayload = Object.prototype.hasOwnProperty.call(packet, "payload");
  return {
    fields: JSON.stringify(encodeValue(fields)),
    payload:
      !hasPayload || payload === undefined || payload === null
        ? null
        : typeof payload === "string"
          ? Buffer.from(payload, "utf8")
          : Buffer.from(payload),
    payloadIsString: typeof payload === "string",
  };
}

export interface PacketRow {
  packet: unknown;
  payload: Buffer | null;
  payload_is_string: boolean;
}

export function decodePacket(row: PacketRow): StoredPacket {
  const packet = decodeValue(row.packet) as StoredPacket;
  if (row.payload !== null) packet.payload = row.payload_is_string ? row.payload.toString("utf8") : row.payload;
  return packet;
}

export function payloadLength(payload: unknown): number {
  if (typeof payload === "string") return payload.length;
  if (payload instanceof Uint8Array) return payload.byteLength;
  return 0;
}
