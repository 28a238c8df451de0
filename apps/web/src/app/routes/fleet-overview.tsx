import { SystemStatusCard } from "../../features/system-status/components/system-status-card.tsx";

export function FleetOverviewPage() {
  return (
    <>
      <title>Fleet overview · Fleetwatch</title>
      <h1 className="page-title">Fleet overview</h1>
      <div className="grid">
        <SystemStatusCard />
      </div>
    </>
  );
}
