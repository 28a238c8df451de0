// Telemetry payload format: what devices publish on devices/{id}/telemetry, and how it
// becomes readings. One implementation, used by ingest, alert rules, the simulator and tests.
//
//   {"temp": 21.5, "env": {"humidity": 40}, "ts": 1732406400000}
//   → readings temp=21.5 and env.humidity=40 at the given time
//
// Numbers (and booleans, as 0/1) become readings; nested objects become dotted metric names;
// strings, arrays and nulls are kept in the raw message only. `ts` (epoch milliseconds or an
// ISO-8601 string) is the reading time; without it, the time the broker received the message.
//
// A key that cannot be a metric name as sent (U+0000, which PostgreSQL's text rejects, or a
// lone surrogate, which is not Unicode text and would silently become U+FFFD) is skipped, with
// what is below it; the raw message keeps it.

export interface Reading {
  metric: string;
  value: number;
}

export type ParsedTelemetry =
  | {
      ok: true;
      time: Date;
      readings: Reading[];
      /** Fields skipped because their key cannot be a metric name (absent when none were). */
      unstorableNames?: number;
    }
  | { ok: false; reason: "not-json" | "not-an-object" | "bad-timestamp" | "no-numeric-fields" | "unstorable-metric-names" };

/** Why a telemetry message yielded no readings. */
export type BadTelemetryReason = Extract<ParsedTelemetry, { ok: false }>["reason"];

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
  const skipped = { unstorable: 0 };
  flatten(fields, "", 1, readings, skipped);
  if (readings.length === 0) return { ok: false, reason: skipped.unstorable > 0 ? "unstorable-metric-names" : "no-numeric-fields" };
  return { ok: true, time, readings, ...(skipped.unstorable > 0 ? { unstorableNames: skipped.unstorable } : {}) };
}

/** Any U+0000 or surrogate code unit; most keys are plain ASCII and stop here. */
// eslint-disable-next-line no-control-regex -- U+0000 is what this looks for
const suspectName = /[\u0000\ud800-\udfff]/;
/** A lone surrogate (with the u flag, \p{Cs} matches only unpaired halves; a pair is one astral character). */
const loneSurrogate = /\p{Cs}/u;

/** U+0000, or a lone surrogate. */
function isUnstorableName(key: string): boolean {
  return suspectName.test(key) && (key.includes("\u0000") || loneSurrogate.test(key));
}

function flatten(object: Record<string, unknown>, prefix: string, depth: number, out: Reading[], skipped: { unstorable: number }): void {
  for (const [key, value] of Object.entries(object)) {
    if (out.length >= MAX_READINGS_PER_MESSAGE) return;
    const metric = prefix ? `${prefix}.${key}` : key;
    if (metric.length > MAX_METRIC_NAME_LENGTH || key === "") continue;
    const numeric = typeof value === "number" && Number.isFinite(value);
    const nested = typeof value === "object" && value !== null && !Array.isArray(value) && depth < MAX_TELEMETRY_DEPTH;
    if ((numeric || typeof value === "boolean" || nested) && isUnstorableName(key)) {
      skipped.unstorable++;
      continue;
    }
    if (numeric) out.push({ metric, value });
    else if (typeof value === "boolean") out.push({ metric, value: value ? 1 : 0 });
    else if (nested) flatten(value as Record<string, unknown>, metric, depth + 1, out, skipped);
  }
}

/** Plausible device clocks only: 2000-01-01 to 100 years from now. */
const EARLIEST = Date.UTC(2000, 0, 1);

function parseTimestamp(ts: unknown): Date | null {
  const millis = typeof ts === "number" ? ts : typeof ts === "string" && /^\d{4}-\d{2}-\d{2}T/.test(ts) ? Date.parse(ts) : NaN;
  if (!Number.isFinite(millis) || millis < EARLIEST || millis > Date.now() + 100 * 365 * 86_400_000) return null;
  return new Date(millis);
}
