import { useId } from "react";
import type { Readiness } from "@fleetwatch/contracts";
import { StatusIndicator } from "../../../components/status-indicator.tsx";
import { describeError } from "../../../lib/api-client.ts";
import { readinessRefreshMs, useReadiness } from "../api/get-readiness.ts";
import { formatClock } from "../../../lib/format.ts";

const checkLabels: Record<keyof Readiness["checks"], string> = {
  database: "Database",
  broker: "MQTT broker",
  ingest: "Message storage",
};

export function SystemStatusCard() {
  const headingId = useId();
  const { data, error, isPending, dataUpdatedAt, refetch, isFetching } = useReadiness();

  return (
    <section className="card" aria-labelledby={headingId}>
      <div className="card__header">
        <h2 id={headingId} className="card__title">
          System status
        </h2>
        {/* Announced when it changes; the refreshing timestamp below is deliberately not. */}
        <p className="card__summary" role="status">
          {data ? (
            <StatusIndicator tone={data.status === "ready" ? "ok" : "failing"} label={data.status === "ready" ? "Ready" : "Unavailable"} />
          ) : isPending ? (
            "Checking…"
          ) : null}
        </p>
      </div>

      {error && !data ? (
        <div className="notice notice--error" role="alert">
          <p>Could not load the system status: {describeError(error)}.</p>
          <button type="button" className="button" onClick={() => void refetch()} disabled={isFetching}>
            Try again
          </button>
        </div>
      ) : null}

      {data ? (
        <>
          <dl className="checks">
            {(Object.keys(checkLabels) as (keyof Readiness["checks"])[]).map((name) => {
              const check = data.checks[name];
              return (
                <div className="checks__row" key={name}>
                  <dt>{checkLabels[name]}</dt>
                  <dd>
                    <StatusIndicator tone={check.ok ? "ok" : "failing"} label={check.ok ? "OK" : "Failing"} />
                    {!check.ok && check.detail ? <span className="checks__detail">{check.detail}</span> : null}
                  </dd>
                </div>
              );
            })}
          </dl>
          {error ? (
            <p className="notice notice--warning" role="alert">
              The last refresh failed ({describeError(error)}). Showing the result from {formatClock(dataUpdatedAt)}.
            </p>
          ) : null}
          <p className="card__meta">
            Checked at <time dateTime={new Date(dataUpdatedAt).toISOString()}>{formatClock(dataUpdatedAt)}</time> · refreshes every{" "}
            {readinessRefreshMs / 1000} s
          </p>
        </>
      ) : null}
    </section>
  );
}
