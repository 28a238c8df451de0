// PostgreSQL's binary COPY format, for the raw-COPY baseline and for seeding history: the
// fastest way rows get into PostgreSQL, which makes it the physical limit to compare with.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { ColumnTypes } from "./postgres.ts";

export type CopyValue = string | number | Date;

/** PostgreSQL's epoch (2000-01-01) in Unix milliseconds. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

type Encoder = (value: CopyValue) => Buffer;

const encoders: Record<string, Encoder> = {
  text: (v) => Buffer.from(String(v), "utf8"),
  "character varying": (v) => Buffer.from(String(v), "utf8"),
  "double precision": (v) => {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleBE(Number(v));
    return b;
  },
  real: (v) => {
    const b = Buffer.allocUnsafe(4);
    b.writeFloatBE(Number(v));
    return b;
  },
  integer: (v) => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(Number(v));
    return b;
  },
  bigint: (v) => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(Math.trunc(Number(v))));
    return b;
  },
  "timestamp with time zone": (v) => {
    const b = Buffer.allocUnsafe(8);
    const ms = v instanceof Date ? v.getTime() : Number(v);
    b.writeBigInt64BE(BigInt(Math.round((ms - PG_EPOCH_MS) * 1000)));
    return b;
  },
};
encoders["timestamp without time zone"] = encoders["timestamp with time zone"]!;

/** Encoders for `columns`, or an error naming a column type this encoder does not speak. */
export function encodersFor(columns: readonly string[], types: ColumnTypes): Encoder[] {
  return columns.map((column) => {
    const type = types[column];
    const encoder = type ? encoders[type] : undefined;
    if (!encoder) throw new Error(`binary COPY: column ${column} has type ${type ?? "(missing)"}, which this benchmark cannot encode`);
    return encoder;
  });
}

/** The binary COPY stream of `batches` of rows: header, one chunk per batch, trailer. */
export function* encodeCopy(columns: readonly string[], types: ColumnTypes, batches: Iterable<CopyValue[][]>): Generator<Buffer> {
  const encode = encodersFor(columns, types);
  const header = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(header);
  yield header; // flags and header-extension length are zero
  for (const batch of batches) {
    const parts: Buffer[] = [];
    for (const row of batch) {
      const fieldCount = Buffer.allocUnsafe(2);
      fieldCount.writeInt16BE(row.length);
      parts.push(fieldCount);
      row.forEach((value, i) => {
        const data = encode[i]!(value);
        const length = Buffer.allocUnsafe(4);
        length.writeInt32BE(data.length);
        parts.push(length, data);
      });
    }
    yield Buffer.concat(parts);
  }
  const trailer = Buffer.allocUnsafe(2);
  trailer.writeInt16BE(-1);
  yield trailer;
}

/** Streams an encoded binary COPY into `table(columns)`. */
export async function copyInto(client: pg.ClientBase, table: string, columns: readonly string[], chunks: Iterable<Buffer>): Promise<void> {
  const quoted = columns.map((c) => `"${c}"`).join(", ");
  await pipeline(Readable.from(chunks), client.query(copyFrom(`COPY ${table} (${quoted}) FROM STDIN WITH (FORMAT binary)`)));
}
