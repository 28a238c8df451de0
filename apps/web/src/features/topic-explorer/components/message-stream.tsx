import { memo } from "react";
import { displayPayload } from "../../../lib/payload.ts";
import type { StreamRow } from "../explorer-state.ts";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3 });

/** The stream, newest first. Rows are memoised by key, so a batch renders only its new rows. */
export function MessageStream({ rows, labelledBy }: { rows: StreamRow[]; labelledBy: string }) {
  return (
    // Focusable, so the keyboard can scroll it.
    <ol className="stream" aria-labelledby={labelledBy} tabIndex={0}>
      {rows.map((row) => (
        <MessageRow key={row.key} row={row} />
      ))}
    </ol>
  );
}

const MessageRow = memo(function MessageRow({ row }: { row: StreamRow }) {
  const { message } = row;
  const payload = displayPayload(message);
  return (
    <li className="stream__row">
      <div className="stream__meta">
        <time className="stream__time" dateTime={new Date(row.receivedAt).toISOString()}>
          {timeFormat.format(row.receivedAt)}
        </time>
        <code className="stream__topic">{message.topic}</code>
        <span className="badge">QoS {message.qos}</span>
        {message.retain ? <span className="badge">retained</span> : null}
        {payload.kind === "base64" ? <span className="badge">binary (base64)</span> : null}
      </div>
      <pre className="stream__payload">{payload.text === "" ? <span className="muted">(empty payload)</span> : payload.text}</pre>
    </li>
  );
});
