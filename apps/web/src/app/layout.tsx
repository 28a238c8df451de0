import { Suspense, useId, useState } from "react";
import { Link, NavLink, Outlet, useLocation } from "react-router";
import { ErrorBoundary } from "../components/error-boundary.tsx";
import { LiveIndicator } from "../components/live-indicator.tsx";
import { useCan } from "../lib/auth/permissions.ts";
import { useSession } from "../lib/auth/session.ts";
import { AccountMenu } from "../features/auth/components/account-menu.tsx";
import { RequireSession } from "../features/auth/components/require-session.tsx";
import { ThemeSwitch } from "../features/theme/components/theme-switch.tsx";
import { ActiveAlertCount } from "../features/alert-notices/components/active-alert-count.tsx";
import { AlertToasts } from "../features/alert-notices/components/alert-toasts.tsx";
import { PageError } from "./routes/page-error.tsx";

function MainNav() {
  const signedIn = Boolean(useSession().data);
  const canRegister = useCan("manage-fleet");
  const canSeeClients = useCan("view-clients");
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
          <NavLink to="/alerts">
            Alerts
            <ActiveAlertCount />
          </NavLink>
        </li>
        <li>
          <NavLink to="/dashboards">Dashboards</NavLink>
        </li>
        {canSeeClients ? (
          <li>
            <NavLink to="/clients">Clients</NavLink>
          </li>
        ) : null}
        <li>
          <NavLink to="/settings">Settings</NavLink>
        </li>
      </ul>
    </nav>
  );
}

/** Narrow screens fold the nav, theme and account into a menu behind one button; wide ones show them inline. */
function HeaderMenu({ id, open }: { id: string; open: boolean }) {
  const signedIn = Boolean(useSession().data);
  return (
    <div id={id} className={`app-header__menu${open ? " app-header__menu--open" : ""}`}>
      <MainNav />
      <div className="app-header__end">
        {signedIn ? <ThemeSwitch /> : null}
        <AccountMenu />
      </div>
    </div>
  );
}

export function AppLayout() {
  const { pathname } = useLocation();
  const signedIn = Boolean(useSession().data);
  const menuId = useId();
  const [menu, setMenu] = useState<{ open: boolean; at: string }>({ open: false, at: pathname });
  // Following a link closes the menu: it is open only on the page where it was opened.
  const menuOpen = menu.open && menu.at === pathname;
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
          <LiveIndicator />
          <button
            type="button"
            className="button button--quiet app-header__toggle"
            aria-expanded={menuOpen}
            aria-controls={menuId}
            onClick={() => setMenu({ open: !menuOpen, at: pathname })}
          >
            <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false" className="app-header__toggle-icon">
              <path d={menuOpen ? "M5 5l10 10M15 5L5 15" : "M3 5h14M3 10h14M3 15h14"} />
            </svg>
            Menu
          </button>
          <HeaderMenu id={menuId} open={menuOpen} />
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
      {signedIn ? <AlertToasts /> : null}
      <footer className="app-footer">
        <p>
          Fleetwatch · <a href="/docs">API reference</a>
        </p>
      </footer>
    </div>
  );
}
