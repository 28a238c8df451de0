import { lazy } from "react";
import { BrowserRouter, Route, Routes, useParams } from "react-router";
import { usePrefetchDashboard } from "../features/dashboards/api/get-dashboard.ts";
import { AppProvider } from "./provider.tsx";
import { AppLayout } from "./layout.tsx";
import { FleetOverviewPage } from "./routes/fleet-overview.tsx";
import { NotFoundPage } from "./routes/not-found.tsx";

// Declarative routing: react-router's data mode (createBrowserRouter) costs ~16 KB more
// gzipped initial JS, for loaders we do not need while react-query fetches the data.
// The landing page ships with the shell; every other page is its own chunk, loaded on
// first visit (the device page carries Recharts), which keeps the initial JS small.
const DevicePage = lazy(() => import("./routes/device.tsx").then((m) => ({ default: m.DevicePage })));
const RegisterDevicePage = lazy(() => import("./routes/register-device.tsx").then((m) => ({ default: m.RegisterDevicePage })));
const TopicExplorerPage = lazy(() => import("./routes/topic-explorer.tsx").then((m) => ({ default: m.TopicExplorerPage })));
const AlertsPage = lazy(() => import("./routes/alerts.tsx").then((m) => ({ default: m.AlertsPage })));
const ImportDevicesPage = lazy(() => import("./routes/import-devices.tsx").then((m) => ({ default: m.ImportDevicesPage })));
// Dashboards carry the grid library: their own chunks too.
const DashboardsPage = lazy(() => import("./routes/dashboards.tsx").then((m) => ({ default: m.DashboardsPage })));
/** Also loaded by the first page's preload (preload.ts). */
export const loadDashboardPage = () => import("./routes/dashboard.tsx");
const DashboardPage = lazy(() => loadDashboardPage().then((m) => ({ default: m.DashboardPage })));
const ClientsPage = lazy(() => import("./routes/clients.tsx").then((m) => ({ default: m.ClientsPage })));
const SettingsPage = lazy(() => import("./routes/settings.tsx").then((m) => ({ default: m.SettingsPage })));

/** The dashboard's own request starts with the route, in parallel with its page's chunk, not after it. */
function DashboardRoute() {
  const { dashboardId = "" } = useParams();
  usePrefetchDashboard(dashboardId);
  return <DashboardPage />;
}

export function App() {
  return (
    <AppProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<AppLayout />}>
            <Route index element={<FleetOverviewPage />} />
            <Route path="devices/new" element={<RegisterDevicePage />} />
            <Route path="devices/import" element={<ImportDevicesPage />} />
            <Route path="devices/:deviceId" element={<DevicePage />} />
            <Route path="explorer" element={<TopicExplorerPage />} />
            <Route path="alerts" element={<AlertsPage />} />
            <Route path="clients" element={<ClientsPage />} />
            <Route path="settings" element={<SettingsPage />} />
            <Route path="dashboards" element={<DashboardsPage />} />
            <Route path="dashboards/:dashboardId" element={<DashboardRoute />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AppProvider>
  );
}
