import { useCallback, useEffect, useId, useReducer, useState } from "react";
import { useSearchParams } from "react-router";
import { isValidTopicFilter } from "@fleetwatch/contracts";
import { Empty, LoadError } from "../../../components/query-state.tsx";
import { useLiveMessages } from "../../../lib/live/use-live.ts";
import type { MessageBatch } from "../../../lib/live/live-client.ts";
import { useRetained } from "../api/get-retained.ts";
import { MAX_ROWS, MAX_TOPICS, explorerReducer, initialExplorerState } from "../explorer-state.ts";
import { FilterForm } from "./filter-form.tsx";
import { MessageStream, type StreamView } from "./message-stream.tsx";
import { TopicTree } from "./topic-tree.tsx";
import "../topic-explorer.css";

export const DEFAULT_FILTER = "devices/#";

/** This browser's last choice of compact or full rows. */
const VIEW_STORAGE_KEY = "fleetwatch.explorer.view";

function storedView(): StreamView {
  try {
    return localStorage.getItem(VIEW_STORAGE_KEY) === "full" ? "full" : "compact";
  } catch {
    return "compact";
  }
}

function useStreamView(): [StreamView, (view: StreamView) => void] {
  const [view, setView] = useState(storedView);
  const choose = (next: StreamView) => {
    setView(next);
    try {
      localStorage.setItem(VIEW_STORAGE_KEY, next);
    } catch {
      // Not remembered: the choice still holds on this page.
    }
  };
  return [view, choose];
}

/** The filter lives in the address (?filter=...), so a view can be bookmarked and shared. */
export function TopicExplorer() {
  const [params, setParams] = useSearchParams();
  const asked = params.get("filter");
  const filter = asked !== null && isValidTopicFilter(asked) ? asked : DEFAULT_FILTER;
  return (
    <div className="explorer">
      <FilterForm filter={filter} onApply={(next) => setParams({ filter: next })} />
      {asked !== null && asked !== filter ? (
        <p className="notice notice--warning" role="alert">
          The address asked for "{asked}", which is not a valid topic filter; showing {DEFAULT_FILTER}.
        </p>
      ) : null}
      {/* Keyed by filter: a new filter starts a fresh stream, tree and counts. */}
      <ExplorerSession key={filter} filter={filter} />
    </div>
  );
}

function ExplorerSession({ filter }: { filter: string }) {
  const [state, dispatch] = useReducer(explorerReducer, initialExplorerState);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [view, setView] = useStreamView();
  const streamHeading = useId();
  const treeHeading = useId();

  useLiveMessages(
    filter,
    useCallback(
      (batch: MessageBatch) => dispatch({ type: "batch", messages: batch.messages, skipped: batch.skipped, now: Date.now() }),
      [],
    ),
    setRefusal,
  );

  const retained = useRetained(filter);
  useEffect(() => {
    if (retained.data) dispatch({ type: "retained", entries: retained.data.retained });
  }, [retained.data]);

  return (
    <>
      {refusal ? (
        <div className="notice notice--error" role="alert">
          <p>
            The server refused to stream <code>{filter}</code>: {refusal}
          </p>
        </div>
      ) : null}

      <div className="explorer__toolbar">
        <button type="button" className="button" onClick={() => dispatch({ type: state.paused ? "resume" : "pause" })}>
          {state.paused ? "Resume" : "Pause"}
        </button>
        <button type="button" className="button" onClick={() => dispatch({ type: "clear" })}>
          Clear
        </button>
        <button
          type="button"
          className="button"
          aria-pressed={view === "compact"}
          onClick={() => setView(view === "compact" ? "full" : "compact")}
        >
          Compact rows
        </button>
        <p className="explorer__summary" role="status">
          {state.paused ? (
            <>Paused{state.heldBack > 0 ? `: ${state.heldBack} new ${state.heldBack === 1 ? "message" : "messages"} not shown` : ""}.</>
          ) : (
            <>Streaming {filter}.</>
          )}
          {state.skipped > 0 ? (
            <>
              {" "}
              <strong className="explorer__skipped">
                {state.skipped} {state.skipped === 1 ? "message" : "messages"} skipped by rate limit
              </strong>
              .
            </>
          ) : null}
        </p>
      </div>

      <div className="explorer__panes">
        <section className="card explorer__stream" aria-labelledby={streamHeading}>
          <div className="card__header">
            <h2 id={streamHeading} className="card__title">
              Messages
            </h2>
            <p className="card__summary">
              {state.rows.length} shown · the newest {MAX_ROWS} are kept
            </p>
          </div>
          {state.rows.length > 0 ? (
            <MessageStream rows={state.rows} labelledBy={streamHeading} view={view} />
          ) : (
            <Empty>{state.paused ? "Paused. Resume to see new messages." : <>Waiting for messages on {filter}…</>}</Empty>
          )}
        </section>

        <section className="card explorer__tree" aria-labelledby={treeHeading}>
          <div className="card__header">
            <h2 id={treeHeading} className="card__title">
              Topic tree
            </h2>
            <p className="card__summary">msg/s over the last 10 s</p>
          </div>
          {retained.error ? <LoadError what="the retained messages" error={retained.error} retry={() => void retained.refetch()} /> : null}
          {retained.data?.truncated ? (
            <p className="notice notice--warning">More retained messages match than are shown; narrow the filter to see them all.</p>
          ) : null}
          {state.untrackedTopics > 0 ? (
            <p className="notice notice--warning">
              The tree tracks at most {MAX_TOPICS} topics; {state.untrackedTopics} messages on further topics are in the stream only.
            </p>
          ) : null}
          {state.topics.size > 0 ? (
            <TopicTree topics={state.topics} />
          ) : retained.isPending ? (
            <p role="status" className="muted">
              Loading retained messages…
            </p>
          ) : (
            <Empty>No topics yet: none retained, none seen.</Empty>
          )}
        </section>
      </div>
    </>
  );
}
