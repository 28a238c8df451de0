import { Type, type Static } from "typebox";

/** GET /api/fleet/summary. */
export const FleetSummary = Type.Object(
  {
    devices: Type.Object({
      total: Type.Integer(),
      online: Type.Integer(),
      offline: Type.Integer({ description: "Seen before, not connected now" }),
      neverSeen: Type.Integer({ description: "Never connected" }),
    }),
    alerts: Type.Object({
      active: Type.Integer(),
      acknowledged: Type.Integer(),
    }),
  },
  { $id: "FleetSummary" },
);
export type FleetSummary = Static<typeof FleetSummary>;

/** One aligned bucket of a pulse series: `time` is the bucket's start (a multiple of bucketMs from the Unix epoch). */
export const PulsePoint = Type.Object({ time: Type.String({ format: "date-time" }), value: Type.Number() });
export type PulsePoint = Static<typeof PulsePoint>;

export const PulseSeries = Type.Object({
  bucketMs: Type.Integer({ description: "Width of each bucket, aligned to the Unix epoch" }),
  points: Type.Array(PulsePoint, { description: "Every bucket of the window, oldest first, zero-filled" }),
});
export type PulseSeries = Static<typeof PulseSeries>;

export const PulseDevice = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  messages: Type.Integer({ description: "Messages in the last hour (as topTalkers counts it)" }),
});
export type PulseDevice = Static<typeof PulseDevice>;

export const PulseAlert = Type.Object({
  id: Type.Integer(),
  deviceId: Type.String(),
  severity: Type.Union([Type.Literal("info"), Type.Literal("warning"), Type.Literal("critical")]),
  message: Type.String(),
  raisedAt: Type.String({ format: "date-time" }),
});
export type PulseAlert = Static<typeof PulseAlert>;

/** GET /api/fleet/pulse: the fleet's activity, all from server-side aggregates. */
export const FleetPulse = Type.Object(
  {
    at: Type.String({ format: "date-time", description: "When the aggregates were computed" }),
    messageRate: Type.Object({
      ...PulseSeries.properties,
      total: Type.Integer({ description: "Messages over the last hour" }),
    }),
    online: Type.Object(
      { ...PulseSeries.properties, now: Type.Integer() },
      { description: "Devices online at the end of each bucket over the last 24 h" },
    ),
    alertsRaised: Type.Object(
      { ...PulseSeries.properties, total: Type.Integer() },
      { description: "Alerts raised per hour over the last 24 h" },
    ),
    topTalkers: Type.Array(PulseDevice, {
      description: "Most messages in the last hour (whole five-minute buckets: the last 55 to 60 minutes)",
    }),
    silent: Type.Array(PulseDevice, { description: "Offline devices, longest since last seen first" }),
    activeAlerts: Type.Array(PulseAlert, { description: "Latest active alerts, newest first" }),
  },
  { $id: "FleetPulse" },
);
export type FleetPulse = Static<typeof FleetPulse>;

/** How many devices and alerts the pulse lists. */
export const PULSE_LIST_LENGTH = 5;
