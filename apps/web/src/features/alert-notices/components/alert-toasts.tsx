// A toast for each alert raised while the dashboard is open (from the live channel), on every
// page: what and where, a link to the alert, and a button to dismiss it. A few at most: when
// a burst raises many, the newest stay and the nav count tells the rest.
import { useState } from "react";
import { Link } from "react-router";
import type { Alert } from "@fleetwatch/contracts";
import "../alert-notices.css";
import { useLiveEvents } from "../../../lib/live/use-live.ts";

const MAX_TOASTS = 3;

export function AlertToasts() {
  const [toasts, setToasts] = useState<Alert[]>([]);
  useLiveEvents((events) => {
    const raised = events.flatMap((event) => (event.kind === "alert.raised" ? [event.alert] : []));
    // An alert acknowledged or resolved meanwhile needs no toast any more.
    const settled = new Set(
      events.flatMap((event) => (event.kind === "alert.acknowledged" || event.kind === "alert.resolved" ? [event.alert.id] : [])),
    );
    if (raised.length === 0 && settled.size === 0) return;
    setToasts((current) => [...raised.reverse(), ...current].filter((alert) => !settled.has(alert.id)).slice(0, MAX_TOASTS));
  });
  const dismiss = (id: number) => setToasts((current) => current.filter((alert) => alert.id !== id));
  return (
    <div className="toasts" role="region" aria-label="New alerts">
      {toasts.map((alert) => (
        <div key={alert.id} className={`toast toast--${alert.severity}`} role="status">
          <p className="toast__title">
            New {alert.severity} alert on {alert.deviceId}
          </p>
          <p className="toast__message">{alert.message}</p>
          <div className="toast__actions">
            <Link className="button button--small" to={`/alerts?alert=${alert.id}`} onClick={() => dismiss(alert.id)}>
              View alert
            </Link>
            <button type="button" className="button button--small button--quiet" onClick={() => dismiss(alert.id)}>
              Dismiss
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}
