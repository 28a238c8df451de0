import { useId, useMemo, useState } from "react";
import { deviceTopic, parseDeviceTopic, type LiveMqttMessage, type LoggedMessage, type MessageProperties } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { RECENT_MESSAGES_LIMIT, useRecentMessages } from "../api/get-messages.ts";
import { formatDateTime } from "../../../lib/format.ts";
import { displayPayload } from "../../../lib/payload.ts";
import { MessagePropertiesList } from "../../../components/message-properties.tsx";

interface ShownMessage {
  key: string;
  topic: string;
  payload: string;
  encoding: "utf8" | "base64";
  qos: number;
  retain: boolean;
  /** Epoch ms. */
  time: number;
  properties: MessageProperties | undefined;
}

/** Longest payload shown in full; longer ones are cut (the topic explorer shows everything). */
const MAX_SHOWN_PAYLOAD = 4_000;
/** A live message and a logged one this close together, with the same topic and payload, are the same message. */
const SAME_MESSAGE_WINDOW_MS = 2_000;

const fromLog = (message: LoggedMessage, index: number): ShownMessage => ({
  key: `log-${index}-${message.receivedAt}`,
  topic: message.topic,
  payload: message.payload,
  encoding: message.payloadEncoding,
  qos: message.qos,
  retain: message.retain,
  time: Date.parse(message.receivedAt),
  properties: message.properties,
});

let liveKey = 0;
const fromLive = (message: LiveMqttMessage): ShownMessage => ({
  key: `live-${liveKey++}`,
  topic: message.topic,
  payload: message.payload,
  encoding: message.encoding,
  qos: message.qos,
  retain: message.retain,
  time: message.at,
  properties: message.properties,
});

export function RecentMessages({ deviceId }: { deviceId: string }) {
  const headingId = useId();
  const logged = useRecentMessages(deviceId);
  const [live, setLive] = useState<ShownMessage[]>([]);
  useLiveMessages(deviceTopic.all(deviceId), (batch) => {
    if (batch.messages.length === 0) return;
    const arrived = batch.messages.map(fromLive).reverse();
    setLive((previous) => [...arrived, ...previous].slice(0, RECENT_MESSAGES_LIMIT));
  });

  const messages = useMemo(() => {
    const history = (logged.data?.messages ?? []).map(fromLog);
    // The log may already hold a message that also arrived live while it was being fetched.
    const unseen = live.filter(
      (message) =>
        !history.some(
          (old) =>
            old.topic === message.topic && old.payload === message.payload && Math.abs(old.time - message.time) < SAME_MESSAGE_WINDOW_MS,
        ),
    );
    return [...unseen, ...history].slice(0, RECENT_MESSAGES_LIMIT);
  }, [logged.data, live]);

  return (
    <section className="card device-section device-section--wide" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Recent messages
        </h2>
        <p className="card__summary">newest first, live</p>
      </div>
      {logged.error && messages.length === 0 ? (
        <LoadError what="recent messages" error={logged.error} retry={() => void logged.refetch()} />
      ) : logged.isPending && messages.length === 0 ? (
        <Loading label="Loading messages…" />
      ) : messages.length === 0 ? (
        <Empty>No messages from this device in the last day.</Empty>
      ) : (
        <table className="table messages" aria-label="Recent messages">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Topic</th>
              <th scope="col">Payload</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((message) => {
              const payload = displayPayload(message).text;
              return (
                <tr key={message.key}>
                  <td className="messages__time">{formatDateTime(message.time)}</td>
                  <td>
                    <code>{parseDeviceTopic(message.topic)?.subtopic ?? message.topic}</code>
                    <div className="messages__flags muted">
                      QoS {message.qos}
                      {message.retain ? " · retained" : ""}
                      {message.encoding === "base64" ? " · binary (base64)" : ""}
                    </div>
                    <MessagePropertiesList properties={message.properties} />
                  </td>
                  <td>
                    <pre className="code messages__payload">
                      {payload.length > MAX_SHOWN_PAYLOAD
                        ? `${payload.slice(0, MAX_SHOWN_PAYLOAD)}… (${payload.length} characters)`
                        : payload}
                    </pre>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {logged.error && messages.length > 0 ? (
        <p className="notice notice--warning" role="alert">
          Older messages could not be loaded; showing the ones that arrived live.
        </p>
      ) : null}
    </section>
  );
}
