// GET /api/fleet/summary: counts for the dashboard's overview.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FleetSummary } from "@fleetwatch/contracts";
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
}
