import { memo } from "react";
import { displayPayload } from "../../../lib/payload.ts";
import { MessagePropertiesList } from "../../../components/message-properties.tsx";
import type { StreamRow } from "../explorer-state.ts";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3 });
/** Characters of a payload previewed on a compact row (the line ends in an ellipsis well before). */
const PREVIEW_CHARACTERS = 400;

export type StreamView = "compact" | "full";

/**
 * The stream, newest first. Compact: one line per message, its payload pretty-printed when
 * the row is opened; full: every payload pretty-printed. Rows are memoised by key, so a batch
 * renders only its new rows.
 */
export function MessageStream({ rows, labelledBy, view }: { rows: StreamRow[]; labelledBy: string; view: StreamView }) {
  return (
    // Focusable, so the keyboard can scroll it.
    <ol className={`stream stream--${view}`} aria-labelledby={labelledBy} tabIndex={0}>
      {rows.map((row) => (view === "compact" ? <CompactRow key={row.key} row={row} /> : <FullRow key={row.key} row={row} />))}
    </ol>
  );
}

function Meta({ row }: { row: StreamRow }) {
  const { message } = row;
  return (
    <>
      <time className="stream__time" dateTime={new Date(row.receivedAt).toISOString()}>
        {timeFormat.format(row.receivedAt)}
      </time>
      <code className="stream__topic">{message.topic}</code>
      <span className="stream__badges">
        <span className="badge">QoS {message.qos}</span>
        {message.retain ? <span className="badge">retained</span> : null}
        {message.encoding === "base64" ? <span className="badge">binary (base64)</span> : null}
        {message.properties ? <span className="badge">MQTT 5 properties</span> : null}
      </span>
    </>
  );
}

function Payload({ row }: { row: StreamRow }) {
  const payload = displayPayload(row.message);
  return (
    <>
      <MessagePropertiesList properties={row.message.properties} />
      <pre className="stream__payload">{payload.text === "" ? <span className="muted">(empty payload)</span> : payload.text}</pre>
    </>
  );
}

const FullRow = memo(function FullRow({ row }: { row: StreamRow }) {
  return (
    <li className="stream__row">
      <div className="stream__meta">
        <Meta row={row} />
      </div>
      <Payload row={row} />
    </li>
  );
});

const CompactRow = memo(function CompactRow({ row }: { row: StreamRow }) {
  const { payload } = row.message;
  const preview = payload.length > PREVIEW_CHARACTERS ? payload.slice(0, PREVIEW_CHARACTERS) : payload;
  return (
    <li className="stream__row stream__row--compact">
      {/* Native disclosure: a click, Enter or Space opens the pretty-printed payload. */}
      <details>
        <summary className="stream__line">
          <Meta row={row} />
          <span className="stream__preview">
            {preview === "" ? <span className="muted">(empty payload)</span> : preview.replace(/\s+/g, " ")}
          </span>
        </summary>
        <Payload row={row} />
      </details>
    </li>
  );
});
