import { useId } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { deviceTopic, type RetainedEntry } from "@fleetwatch/contracts";
import { Empty, Loading, LoadError } from "../../../components/query-state.tsx";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import { useDeviceState } from "../api/get-device-state.ts";
import { deviceKeys } from "../api/keys.ts";
import { formatDateTime } from "../../../lib/format.ts";
import { prettyJson } from "../lib/format.ts";

const formatLabels: Record<RetainedEntry["format"], string> = { json: "JSON", text: "Text", base64: "Binary (base64)" };

export function RetainedState({ deviceId }: { deviceId: string }) {
  const headingId = useId();
  const queryClient = useQueryClient();
  const state = useDeviceState(deviceId);
  // A retained publish (or an empty one, which clears) changes the state. The broker stores it
  // before routing it, so the refetch sees it; the server formats payloads in one place.
  useLiveMessages(deviceTopic.all(deviceId), (batch) => {
    if (batch.messages.some((message) => message.retain)) void queryClient.invalidateQueries({ queryKey: deviceKeys.state(deviceId) });
  });

  return (
    <section className="card device-section" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          Retained state
        </h2>
      </div>
      {state.error ? (
        <LoadError what="the retained state" error={state.error} retry={() => void state.refetch()} />
      ) : !state.data ? (
        <Loading label="Loading state…" />
      ) : state.data.retained.length === 0 ? (
        <Empty>
          No retained messages. A device keeps its state here by publishing with the retain flag, e.g. on{" "}
          <code>{deviceTopic.state(deviceId)}</code>.
        </Empty>
      ) : (
        <ul className="retained">
          {state.data.retained.map((entry) => (
            <li key={entry.topic} className="retained__entry">
              <div className="retained__head">
                <h3 className="retained__topic">{entry.subtopic}</h3>
                <span className="badge">{formatLabels[entry.format]}</span>
                <span className="muted retained__time">
                  updated <time dateTime={entry.updatedAt}>{formatDateTime(entry.updatedAt)}</time>
                </span>
              </div>
              <pre className="code" aria-label={`Retained payload of ${entry.topic}`} tabIndex={0}>
                {entry.format === "json" ? prettyJson(entry.payload) : String(entry.payload)}
              </pre>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
