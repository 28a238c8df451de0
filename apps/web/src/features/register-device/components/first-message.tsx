import { useId } from "react";
import { Link } from "react-router";
import { deviceTopic, type LiveMqttMessage } from "@fleetwatch/contracts";
import { TelemetryFormatNote } from "../../../components/telemetry-format-note.tsx";
import { telemetryProblem } from "../../../lib/telemetry-format.ts";
import { displayPayload } from "../../../lib/payload.ts";
import { formatClock } from "../../../lib/format.ts";

/** Step 3: waits for the device's first message (the wizard listens from step 2 on) and shows it. */
export function FirstMessage({
  deviceId,
  message,
  liveError,
}: {
  deviceId: string;
  message: LiveMqttMessage | null;
  liveError: string | null;
}) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card__title">
        First message
      </h2>
      {liveError ? (
        <p className="notice notice--error" role="alert">
          Cannot watch this device's messages: {liveError}
        </p>
      ) : null}
      {/* One live region for both states, so the arrival is announced. */}
      <div role="status" aria-live="polite" className="first-message">
        {message ? <Arrived message={message} deviceId={deviceId} /> : <Waiting deviceId={deviceId} />}
      </div>
    </section>
  );
}

function Waiting({ deviceId }: { deviceId: string }) {
  return (
    <p className="first-message__waiting">
      <span className="first-message__pulse" aria-hidden="true" />
      Waiting for the first message from <strong>{deviceId}</strong>… Run one of the snippets; it appears here as soon as the device
      publishes.
    </p>
  );
}

function Arrived({ message, deviceId }: { message: LiveMqttMessage; deviceId: string }) {
  const payload = displayPayload(message);
  const problem = message.topic === deviceTopic.telemetry(deviceId) ? telemetryProblem(message.payload, message.encoding) : null;
  return (
    <div className="first-message__arrived">
      <p className="status status--ok">Received at {formatClock(message.at)}</p>
      <dl className="first-message__meta">
        <dt>Topic</dt>
        <dd>
          <code className="first-message__topic">{message.topic}</code>
        </dd>
        <dt>QoS</dt>
        <dd>{message.qos}</dd>
      </dl>
      <pre className="code" aria-label="Payload">
        <code>{payload.kind === "base64" ? `(binary, base64) ${payload.text}` : payload.text}</code>
      </pre>
      {problem ? <TelemetryFormatNote topic={message.topic} problem={problem} sample={message.payload} /> : null}
      <p>
        <Link className="button button--primary" to={`/devices/${encodeURIComponent(deviceId)}`}>
          Open the device page
        </Link>
      </p>
    </div>
  );
}
