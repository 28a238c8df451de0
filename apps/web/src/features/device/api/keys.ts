// Query keys of one device's data. Everything about a device sits under ["devices", id], so
// deleting it can drop them all at once, and marking ["devices"] stale reaches fleet lists too.
export const deviceKeys = {
  device: (id: string) => ["devices", id] as const,
  state: (id: string) => ["devices", id, "state"] as const,
  metrics: (id: string) => ["devices", id, "metrics"] as const,
  /** Every history query of the device (for invalidation); `telemetry` adds the metric and range. */
  allTelemetry: (id: string) => ["devices", id, "telemetry"] as const,
  presence: (id: string) => ["devices", id, "presence"] as const,
  messages: (id: string) => ["devices", id, "messages"] as const,
  commands: (id: string) => ["devices", id, "commands"] as const,
  liveConnection: (id: string) => ["devices", id, "live-connection"] as const,
  /** The fleet's tags in use (not one device's; a fixed key under ["devices"] no device id can take: ids are lower-case slugs). */
  tags: () => ["devices", "$tags"] as const,
};
