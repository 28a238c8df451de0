import { BrowserRouter, Route, Routes } from "react-router";
import { AppProvider } from "./provider.tsx";
import { AppLayout } from "./layout.tsx";
import { FleetOverviewPage } from "./routes/fleet-overview.tsx";
import { NotFoundPage } from "./routes/not-found.tsx";

// Declarative routing: react-router's data mode (createBrowserRouter) costs ~16 KB more
// gzipped initial JS, for loaders we do not need while react-query fetches the data.
// The landing page ships with the shell; heavier pages (charts) are added as
// `lazy(() => import("./routes/device.tsx").then((m) => ({ default: m.DevicePage })))`,
// out of the initial JS.
export function App() {
  return (
    <AppProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<AppLayout />}>
            <Route index element={<FleetOverviewPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </AppProvider>
  );
}
