import { Suspense } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { ErrorBoundary } from "../components/error-boundary.tsx";
import { LiveIndicator } from "../components/live-indicator.tsx";
import { useCan } from "../lib/auth/permissions.ts";
import { useSession } from "../lib/auth/session.ts";
import { AccountMenu } from "../features/auth/components/account-menu.tsx";
import { RequireSession } from "../features/auth/components/require-session.tsx";
import { PageError } from "./routes/page-error.tsx";

function MainNav() {
  const signedIn = Boolean(useSession().data);
  const canRegister = useCan("manage-fleet");
  if (!signedIn) return null;
  return (
    <nav aria-label="Main" className="app-nav">
      <ul>
        <li>
          <NavLink to="/" end>
            Fleet overview
          </NavLink>
        </li>
        {canRegister ? (
          <li>
            <NavLink to="/devices/new">Register a device</NavLink>
          </li>
        ) : null}
        <li>
          <NavLink to="/explorer">Topic explorer</NavLink>
        </li>
        <li>
          <NavLink to="/alerts">Alerts</NavLink>
        </li>
        <li>
          <NavLink to="/settings">Settings</NavLink>
        </li>
      </ul>
    </nav>
  );
}

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
          <MainNav />
          <div className="app-header__end">
            <LiveIndicator />
            <AccountMenu />
          </div>
        </div>
      </header>
      <main id="main" className="app-main" tabIndex={-1}>
        <RequireSession>
          {/* Keyed by path: navigating away from a failed page gives the next one a fresh start. */}
          <ErrorBoundary key={pathname} fallback={(error) => <PageError error={error} />}>
            {/* For lazy pages (React.lazy in app.tsx): the header stays while their code loads. */}
            <Suspense fallback={<p role="status">Loading…</p>}>
              <Outlet />
            </Suspense>
          </ErrorBoundary>
        </RequireSession>
      </main>
      <footer className="app-footer">
        <p>
          Fleetwatch · <a href="/docs">API reference</a>
        </p>
      </footer>
    </div>
  );
}
