import { Link } from "react-router";

/** Shown inside the layout when a page throws while rendering or loading its code. */
export function PageError({ error }: { error: unknown }) {
  return (
    <div className="notice notice--error" role="alert">
      <h1 className="page-title">This page failed to load</h1>
      {error instanceof Error ? <p>{error.message}</p> : null}
      <p>
        <Link to="/">Go to the fleet overview</Link> or reload the page.
      </p>
    </div>
  );
}
