import { useActiveAlertCount } from "../api/active-alert-count.ts";

/** A count beside the Alerts link while alerts are active; nothing when none are. */
export function ActiveAlertCount() {
  const count = useActiveAlertCount().data ?? 0;
  if (count === 0) return null;
  return (
    <span className="nav-count" data-testid="active-alert-count">
      <span aria-hidden="true">{count > 99 ? "99+" : count}</span>
      <span className="visually-hidden">
        , {count} active alert{count === 1 ? "" : "s"}
      </span>
    </span>
  );
}
