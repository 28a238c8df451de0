import { Link } from "react-router";
import { IfCan } from "../../components/if-can.tsx";
import { FleetCounts } from "../../features/fleet/components/fleet-counts.tsx";
import { usePrefetchFleetPulse } from "../../features/fleet/api/get-fleet-pulse.ts";
import { FleetDevices } from "../../features/fleet/components/fleet-devices.tsx";
import { useFleetLiveUpdates } from "../../features/fleet/hooks/use-fleet-live-updates.ts";
import { useLoaded } from "../../lib/use-loaded.ts";
import { SystemStatusCard } from "../../features/system-status/components/system-status-card.tsx";

// The pulse draws charts: its own chunk, so the charting library stays out of the initial JS.
// Also loaded by the first page's preload (../preload.ts), while the session is checked.
export const loadFleetPulse = () => import("../../features/fleet/components/fleet-pulse.tsx");

export function FleetOverviewPage() {
  useFleetLiveUpdates();
  // In parallel with the lazy pulse chunk, not after it.
  usePrefetchFleetPulse();
  const pulse = useLoaded(loadFleetPulse);
  return (
    <>
      <title>Fleet overview · Fleetwatch</title>
      <div className="fleet-header">
        <h1 className="page-title">Fleet overview</h1>
        <IfCan action="manage-fleet">
          <Link to="/devices/new" className="button button--primary">
            Register a device
          </Link>
        </IfCan>
      </div>
      <div className="grid">
        <FleetCounts />
        <SystemStatusCard />
      </div>
      {pulse ? (
        <pulse.FleetPulse />
      ) : (
        <p className="muted" aria-busy="true">
          Loading the fleet's pulse…
        </p>
      )}
      <FleetDevices
        emptyFleet={
          <>
            <p>No devices are registered yet.</p>
            <IfCan action="manage-fleet" otherwise={<p>An operator or an admin can register them.</p>}>
              <Link to="/devices/new">Register the first device</Link>
            </IfCan>
          </>
        }
      />
    </>
  );
}
