// Why a telemetry message gave no readings, in words a device's author can act on. The check is
// the server's own (parseTelemetry, shared in the contracts), so it never disagrees with ingest.
import { parseTelemetry, type ParsedTelemetry } from "@fleetwatch/contracts";

export type TelemetryProblem = Exclude<ParsedTelemetry, { ok: true }>["reason"] | "binary";

/** The problem with one telemetry payload, or null when it yields readings. */
export function telemetryProblem(payload: string, encoding: "utf8" | "base64"): TelemetryProblem | null {
  if (encoding === "base64") return "binary";
  const parsed = parseTelemetry(payload, new Date());
  return parsed.ok ? null : parsed.reason;
}

export const telemetryProblemText: Record<TelemetryProblem, string> = {
  binary: "is binary data, not JSON text",
  "not-json": "is not JSON",
  "not-an-object": "is JSON, but not an object of named values",
  "bad-timestamp": "has a ts that is neither epoch milliseconds nor an ISO-8601 time (between 2000 and 100 years from now)",
  "no-numeric-fields": "has no numeric values",
  "unstorable-metric-names": "has numeric values only under names that cannot be metric names (they contain U+0000 or a lone surrogate)",
};
