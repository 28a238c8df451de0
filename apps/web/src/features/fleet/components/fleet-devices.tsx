import { useId, useState, type ReactNode } from "react";
import { useDeviceFilters } from "../hooks/use-device-filters.ts";
import { DeviceFilterBar } from "./device-filters.tsx";
import { DeviceTable } from "./device-table.tsx";

/** The searchable, filterable device table of the fleet overview. */
export function FleetDevices({ emptyFleet }: { emptyFleet: ReactNode }) {
  const headingId = useId();
  const [filters, setFilters] = useDeviceFilters();
  const [knownTags, setKnownTags] = useState<string[]>([]);
  return (
    <section className="fleet-devices" aria-labelledby={headingId}>
      <h2 id={headingId} className="fleet-devices__title">
        Devices
      </h2>
      <DeviceFilterBar filters={filters} onChange={setFilters} knownTags={knownTags} />
      <DeviceTable
        filters={filters}
        onClearFilters={() => setFilters({ q: "", status: "", tag: "" })}
        emptyFleet={emptyFleet}
        onTags={setKnownTags}
      />
    </section>
  );
}
