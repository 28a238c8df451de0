import { DashboardList } from "../../features/dashboards/components/dashboard-list.tsx";

export function DashboardsPage() {
  return (
    <>
      <title>Dashboards · Fleetwatch</title>
      <h1 className="page-title">Dashboards</h1>
      <DashboardList />
    </>
  );
}
