import { Type, type Static } from "typebox";

/**
 * Why presence changed. Online: connected. Offline: disconnected (DISCONNECT, no will),
 * connection lost and keepalive timeout (unexpected: the will is published, an offline alert
 * follows), server shutdown (the node holding the connection stopped).
 */
export const PresenceReason = Type.Union([
  Type.Literal("connected"),
  Type.Literal("disconnected"),
  Type.Literal("connection lost"),
  Type.Literal("keepalive timeout"),
  Type.Literal("server shutdown"),
]);
export type PresenceReason = Static<typeof PresenceReason>;

export const PresenceEvent = Type.Object(
  {
    deviceId: Type.String(),
    online: Type.Boolean(),
    reason: PresenceReason,
    at: Type.String({ format: "date-time" }),
  },
  { $id: "PresenceEvent" },
);
export type PresenceEvent = Static<typeof PresenceEvent>;

export const PresenceHistoryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: "Most events returned, newest first" })),
  from: Type.Optional(
    Type.String({ format: "date-time", description: "Only events at or after this time; the answer then also carries `before`" }),
  ),
  to: Type.Optional(Type.String({ format: "date-time", description: "With `from`: only events before this time (default: now)" })),
});
export type PresenceHistoryQuery = Static<typeof PresenceHistoryQuery>;

/** GET /api/devices/:id/presence: the latest presence events of a device, newest first. */
export const PresenceHistory = Type.Object(
  {
    deviceId: Type.String(),
    online: Type.Boolean(),
    items: Type.Array(PresenceEvent),
    before: Type.Optional(
      // The event's fields again rather than PresenceEvent itself: one $id may appear once per schema.
      Type.Union([Type.Object(PresenceEvent.properties), Type.Null()], {
        description:
          "With `from`: the last event before it, which says whether the device was online when the range began (null: never seen before it)",
      }),
    ),
  },
  { $id: "PresenceHistory" },
);
export type PresenceHistory = Static<typeof PresenceHistory>;
