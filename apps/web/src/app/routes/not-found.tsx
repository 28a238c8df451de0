import { Link } from "react-router";

export function NotFoundPage() {
  return (
    <>
      <title>Page not found · Fleetwatch</title>
      <h1 className="page-title">Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Go to the fleet overview</Link>.
      </p>
    </>
  );
}
