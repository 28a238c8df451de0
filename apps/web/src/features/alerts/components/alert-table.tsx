import type { Alert } from "@fleetwatch/contracts";
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { IfCan } from "../../../components/if-can.tsx";
import { formatDateTime } from "../../../lib/format.ts";
import { useAcknowledgeAlert } from "../api/acknowledge-alert.ts";

function Time({ at }: { at: string }) {
  return <time dateTime={at}>{formatDateTime(at)}</time>;
}

function AlertStatus({ alert }: { alert: Alert }) {
  const acknowledged = alert.acknowledgedAt ? (
    <span className="alert-status__detail">
      Acknowledged by {alert.acknowledgedBy ?? "an API client"} · <Time at={alert.acknowledgedAt} />
    </span>
  ) : null;
  switch (alert.state) {
    case "active":
      return <span className="alert-status alert-status--active">Active</span>;
    case "acknowledged":
      return (
        <span className="alert-status alert-status--acknowledged">
          Acknowledged
          {acknowledged}
        </span>
      );
    case "resolved":
      return (
        <span className="alert-status alert-status--resolved">
          Resolved
          {alert.resolvedAt ? (
            <>
              {" "}
              · <Time at={alert.resolvedAt} />
            </>
          ) : null}
          {acknowledged}
        </span>
      );
  }
}

function AcknowledgeButton({ alert }: { alert: Alert }) {
  const acknowledge = useAcknowledgeAlert();
  return (
    <>
      <button type="button" className="button button--small" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate(alert.id)}>
        {acknowledge.isPending ? "Acknowledging…" : "Acknowledge"}
      </button>
      {acknowledge.error ? (
        <span className="alerts-table__error" role="alert">
          {acknowledge.error.message}
        </span>
      ) : null}
    </>
  );
}

/** Alerts as rows; `acknowledgeable` adds the admin's Acknowledge button to active ones. */
export function AlertTable({ alerts, caption, acknowledgeable }: { alerts: Alert[]; caption: string; acknowledgeable: boolean }) {
  // ?alert=<id>: the alert a notification or a toast links to, marked and scrolled into view.
  const linked = Number(useSearchParams()[0].get("alert") ?? Number.NaN);
  const linkedRow = useRef<HTMLTableRowElement>(null);
  const hasLinked = alerts.some((alert) => alert.id === linked);
  useEffect(() => {
    if (hasLinked) linkedRow.current?.scrollIntoView({ block: "center" });
  }, [hasLinked, linked]);
  return (
    <div className="table-frame">
      <table className="table alerts-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Severity</th>
            <th scope="col">Device</th>
            <th scope="col">Alert</th>
            <th scope="col">Raised</th>
            <th scope="col">State</th>
            {acknowledgeable ? (
              <IfCan action="manage-fleet">
                <th scope="col">Actions</th>
              </IfCan>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr
              key={alert.id}
              data-alert-id={alert.id}
              {...(alert.id === linked ? { ref: linkedRow, "aria-current": "true" as const, className: "alerts-table__linked" } : {})}
            >
              {/* data-label: the column's name, shown beside the value when a phone stacks the row as a card. */}
              <td data-label="Severity">
                <span className={`severity severity--${alert.severity}`}>{alert.severity}</span>
              </td>
              <td data-label="Device">
                <Link to={`/devices/${encodeURIComponent(alert.deviceId)}`}>{alert.deviceId}</Link>
              </td>
              {/* The server's sentence already names the rule, condition and value. */}
              <td data-label="Alert">{alert.message}</td>
              <td data-label="Raised">
                <Time at={alert.raisedAt} />
              </td>
              <td data-label="State">
                <AlertStatus alert={alert} />
              </td>
              {acknowledgeable ? (
                <IfCan action="manage-fleet">
                  <td className="alerts-table__actions" data-label="Actions">
                    {alert.state === "active" ? <AcknowledgeButton alert={alert} /> : null}
                  </td>
                </IfCan>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
