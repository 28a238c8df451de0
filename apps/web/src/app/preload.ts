// The first page's requests start with the app's own code, before React renders: the session
// check, the page's data and its lazily loaded code go out together, instead of one after the
// other (code → render → session → page → data). Measured on the overview (bench:web): the
// session check used to start after the first render, and the data only after its answer.
//
// The page's data is asked for before the session is known: signed out, those requests are
// refused (401), the sign-in form shows, and signing in drops them (lib/auth/session.ts).
// Only the pages the budgets measure (e2e/budgets/measure.ts) are preloaded here; the rest
// load as they render.
import { matchPath } from "react-router";
import type { QueryClient } from "@tanstack/react-query";
import { dashboardQueryOptions } from "../features/dashboards/api/get-dashboard.ts";
import { devicePageQueryOptions } from "../features/fleet/api/get-device-pages.ts";
import { fleetPulseQueryOptions } from "../features/fleet/api/get-fleet-pulse.ts";
import { deviceFiltersFrom } from "../features/fleet/hooks/use-device-filters.ts";
import { sessionQueryOptions } from "../lib/auth/session.ts";
import { fleetSummaryQueryOptions } from "../lib/fleet-summary.ts";
import { loadDashboardPage } from "./app.tsx";
import { loadFleetPulse } from "./routes/fleet-overview.tsx";

export function preloadFirstPage(queryClient: QueryClient, { pathname, search }: { pathname: string; search: string }): void {
  void queryClient.prefetchQuery(sessionQueryOptions());
  if (matchPath({ path: "/", end: true }, pathname)) {
    void queryClient.prefetchQuery(fleetSummaryQueryOptions());
    void queryClient.prefetchQuery(fleetPulseQueryOptions());
    void queryClient.prefetchQuery(devicePageQueryOptions(deviceFiltersFrom(new URLSearchParams(search)), 0));
    void loadFleetPulse();
    return;
  }
  const dashboardId = matchPath("/dashboards/:dashboardId", pathname)?.params.dashboardId;
  if (dashboardId) {
    // The router decodes the address before matching; matchPath alone does not.
    void queryClient.prefetchQuery(dashboardQueryOptions(decoded(dashboardId)));
    void loadDashboardPage();
  }
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // malformed escapes: the router will show the page's own error
  }
}
