// Shown where a device's telemetry arrives but yields no readings: what was wrong with it,
// and the format the server expects.
import { telemetryProblemText, type TelemetryProblem } from "../lib/telemetry-format.ts";

export const TELEMETRY_EXAMPLE = '{"temp": 21.5, "env": {"humidity": 40}, "ts": 1732406400000}';

export function TelemetryFormatNote({ topic, problem, sample }: { topic: string; problem: TelemetryProblem; sample: string }) {
  return (
    <div className="notice notice--warning telemetry-note" role="note" aria-label="Telemetry not in the expected format">
      <p>
        <strong>No readings from this message:</strong> the latest payload on <code>{topic}</code> {telemetryProblemText[problem]}. It is
        stored and shown as it is, but charts need readings.
      </p>
      {sample ? (
        <p>
          Received: <code className="telemetry-note__sample">{sample.length > 120 ? `${sample.slice(0, 120)}…` : sample}</code>
        </p>
      ) : null}
      <p>
        Publish a JSON object: numbers (and true/false) become readings, nested objects dotted names such as <code>env.humidity</code>, and
        an optional <code>ts</code> (epoch milliseconds or ISO-8601) sets the time, e.g. <code>{TELEMETRY_EXAMPLE}</code>.
      </p>
    </div>
  );
}
