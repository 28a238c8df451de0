import { Suspense } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { ErrorBoundary } from "../components/error-boundary.tsx";
import { PageError } from "./routes/page-error.tsx";

export function AppLayout() {
  const { pathname } = useLocation();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header__inner">
          <Link to="/" className="brand">
            <svg className="brand__mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
              <rect width="32" height="32" rx="7" />
              <path d="M6 18h5l3-8 4 13 3-7h5" />
            </svg>
            Fleetwatch
          </Link>
          <nav aria-label="Main" className="app-nav">
            <ul>
              <li>
                <NavLink to="/" end>
                  Fleet overview
                </NavLink>
              </li>
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className="app-main" tabIndex={-1}>
        {/* Keyed by path: navigating away from a failed page gives the next one a fresh start. */}
        <ErrorBoundary key={pathname} fallback={(error) => <PageError error={error} />}>
          {/* For lazy pages (React.lazy in app.tsx): the header stays while their code loads. */}
          <Suspense fallback={<p role="status">Loading…</p>}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </main>
      <footer className="app-footer">
        <p>
          Fleetwatch · <a href="/docs">API reference</a>
        </p>
      </footer>
    </div>
  );
}
