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
