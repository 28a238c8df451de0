// GET /api/fleet/summary and /api/fleet/pulse: counts and recent activity for the overview.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FleetPulse, FleetSummary } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { FleetService } from "./fleet.service.ts";

export async function fleetRoutes(parent: FastifyInstance, { fleet }: { fleet: FleetService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/fleet/summary",
    {
      schema: {
        tags: ["fleet"],
        summary: "Devices online, offline and never seen; open alerts",
        response: { 200: FleetSummary, ...apiErrors },
      },
    },
    async () => fleet.summary(),
  );
  app.get(
    "/fleet/pulse",
    {
      schema: {
        tags: ["fleet"],
        summary:
          "The fleet's pulse: message rate (last hour), devices online (last 24 h), alerts raised per hour, top talkers, most silent devices, latest active alerts",
        response: { 200: FleetPulse, ...apiErrors },
      },
    },
    async () => fleet.pulse(),
  );
}
