// A device's presence as the fleet table and the device page both show it.
import type { Device } from "@fleetwatch/contracts";
import "./device-status.css";

export const deviceStatusLabels: Record<Device["status"], string> = { online: "Online", offline: "Offline", never: "Never seen" };

/** A mark plus its word: the word carries the meaning, not the colour. */
export function DeviceStatusBadge({ status }: { status: Device["status"] }) {
  return (
    <span className={`device-status device-status--${status}`}>
      <span className="device-status__dot" aria-hidden="true" />
      {deviceStatusLabels[status]}
    </span>
  );
}
