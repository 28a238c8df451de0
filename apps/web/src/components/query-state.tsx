// Loading, error and empty states, the same on every page.
import type { ReactNode } from "react";
import { describeError } from "../lib/api-client.ts";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p role="status" className="muted">
      {label}
    </p>
  );
}

export function LoadError({ what, error, retry }: { what: string; error: unknown; retry?: () => void }) {
  return (
    <div className="notice notice--error" role="alert">
      <p>
        Could not load {what}: {describeError(error)}.
      </p>
      {retry ? (
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A failed change (mutation), shown next to the control that made it. */
export function ActionError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="notice notice--error" role="alert">
      {describeError(error)}
    </p>
  );
}
