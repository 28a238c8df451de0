// GET /api/devices/:id/presence: a device's presence history.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { DeviceParams, PresenceHistory, PresenceHistoryQuery } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { PresenceService } from "./presence.service.ts";

export async function presenceRoutes(parent: FastifyInstance, { presence }: { presence: PresenceService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/devices/:id/presence",
    {
      schema: {
        tags: ["presence"],
        summary: "Whether a device is online, and its latest presence events (newest first), optionally within a time range",
        params: DeviceParams,
        querystring: PresenceHistoryQuery,
        response: { 200: PresenceHistory, ...apiErrors },
      },
    },
    async (request) => {
      const { limit = 50, from, to } = request.query;
      return presence.history(request.params.id, limit, from === undefined ? undefined : { from, to });
    },
  );
}
