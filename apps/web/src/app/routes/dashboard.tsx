import { useParams } from "react-router";
import { DashboardView } from "../../features/dashboards/components/dashboard-view.tsx";

export function DashboardPage() {
  const { dashboardId = "" } = useParams();
  return <DashboardView key={dashboardId} id={dashboardId} />;
}
