// Telemetry payload format: what devices publish on devices/{id}/telemetry, and how it
// becomes readings. One implementation, used by ingest, alert rules, the simulator and tests.
//
//   {"temp": 21.5, "env": {"humidity": 40}, "ts": 1732406400000}
//   → readings temp=21.5 and env.humidity=40 at the given time
//
// Numbers (and booleans, as 0/1) become readings; nested objects become dotted metric names;
// strings, arrays and nulls are kept in the raw message only. `ts` (epoch milliseconds or an
// ISO-8601 string) is the reading time; without it, the time the broker received the message.

export interface Reading {
  metric: string;
  value: number;
}

export type ParsedTelemetry =
  | { ok: true; time: Date; readings: Reading[] }
  | { ok: false; reason: "not-json" | "not-an-object" | "bad-timestamp" | "no-numeric-fields" };

/** Longest metric name kept; longer paths are skipped rather than stored truncated. */
export const MAX_METRIC_NAME_LENGTH = 200;
/** Nesting deeper than this is not flattened (a defence against hostile payloads). */
export const MAX_TELEMETRY_DEPTH = 8;
/** At most this many readings per message; the rest are ignored. */
export const MAX_READINGS_PER_MESSAGE = 500;

/** One decoder for every message: ingest parses each telemetry payload on the publish path. */
const utf8 = new TextDecoder();

export function parseTelemetry(payload: Uint8Array | string, receivedAt: Date): ParsedTelemetry {
  let document: unknown;
  try {
    document = JSON.parse(typeof payload === "string" ? payload : utf8.decode(payload));
  } catch {
    return { ok: false, reason: "not-json" };
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) return { ok: false, reason: "not-an-object" };

  const { ts, ...fields } = document as Record<string, unknown>;
  let time = receivedAt;
  if (ts !== undefined) {
    const parsed = parseTimestamp(ts);
    if (!parsed) return { ok: false, reason: "bad-timestamp" };
    time = parsed;
  }
  const readings: Reading[] = [];
  flatten(fields, "", 1, readings);
  if (readings.length === 0) return { ok: false, reason: "no-numeric-fields" };
  return { ok: true, time, readings };
}

function flatten(object: Record<string, unknown>, prefix: string, depth: number, out: Reading[]): void {
  for (const [key, value] of Object.entries(object)) {
    if (out.length >= MAX_READINGS_PER_MESSAGE) return;
    const metric = prefix ? `${prefix}.${key}` : key;
    if (metric.length > MAX_METRIC_NAME_LENGTH || key === "") continue;
    if (typeof value === "number" && Number.isFinite(value)) out.push({ metric, value });
    else if (typeof value === "boolean") out.push({ metric, value: value ? 1 : 0 });
    else if (typeof value === "object" && value !== null && !Array.isArray(value) && depth < MAX_TELEMETRY_DEPTH) {
      flatten(value as Record<string, unknown>, metric, depth + 1, out);
    }
  }
}

/** Plausible device clocks only: 2000-01-01 to 100 years from now. */
const EARLIEST = Date.UTC(2000, 0, 1);

function parseTimestamp(ts: unknown): Date | null {
  const millis = typeof ts === "number" ? ts : typeof ts === "string" && /^\d{4}-\d{2}-\d{2}T/.test(ts) ? Date.parse(ts) : NaN;
  if (!Number.isFinite(millis) || millis < EARLIEST || millis > Date.now() + 100 * 365 * 86_400_000) return null;
  return new Date(millis);
}
