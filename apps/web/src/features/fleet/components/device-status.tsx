import type { Device } from "@fleetwatch/contracts";

const labels: Record<Device["status"], string> = { online: "Online", offline: "Offline", never: "Never seen" };

/** A device's presence as a mark plus its word: the word carries the meaning, not the colour. */
export function DeviceStatusBadge({ status }: { status: Device["status"] }) {
  return (
    <span className={`device-status device-status--${status}`}>
      <span className="device-status__dot" aria-hidden="true" />
      {labels[status]}
    </span>
  );
}

export const deviceStatusLabels = labels;
