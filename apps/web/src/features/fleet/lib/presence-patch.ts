// Applying presence events to cached device rows, without a refetch.
import type { Device, DeviceList, PlatformEvent, PresenceChanged } from "@fleetwatch/contracts";

/** The newest presence event of each device in `events` (a frame may carry several). */
export function latestPresence(events: readonly PlatformEvent[]): Map<string, PresenceChanged> {
  const latest = new Map<string, PresenceChanged>();
  for (const event of events) {
    if (event.kind !== "presence") continue;
    const known = latest.get(event.deviceId);
    if (!known || Date.parse(known.at) <= Date.parse(event.at)) latest.set(event.deviceId, event);
  }
  return latest;
}

function patchDevice(device: Device, event: PresenceChanged): Device {
  // The server publishes an event after writing it, so an event is never older than a page
  // fetched before it arrived. Offline means "seen before": any presence event says so.
  const status = event.online ? "online" : "offline";
  if (device.online === event.online && device.status === status && device.lastSeenAt === event.at) return device;
  return { ...device, online: event.online, status, lastSeenAt: event.at };
}

/**
 * `page` with its rows updated by `latest`; the same object when no row changed, so that
 * react-query notifies nobody for pages the events do not touch.
 */
export function applyPresence(page: DeviceList, latest: ReadonlyMap<string, PresenceChanged>): DeviceList {
  let items: Device[] | undefined;
  page.items.forEach((device, index) => {
    const event = latest.get(device.id);
    if (!event) return;
    const patched = patchDevice(device, event);
    if (patched === device) return;
    items ??= [...page.items];
    items[index] = patched;
  });
  return items ? { ...page, items } : page;
}
