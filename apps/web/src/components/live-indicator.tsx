import { useLiveStatus } from "../lib/live/use-live.ts";

const labels = { idle: null, connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…" } as const;

/** Whether live updates are flowing: shown in the header while any page listens. */
export function LiveIndicator() {
  const status = useLiveStatus();
  const label = labels[status];
  if (!label) return null;
  return (
    <span className={`live live--${status}`} role="status" aria-live="polite">
      <span className="live__dot" aria-hidden="true" />
      {label}
    </span>
  );
}
