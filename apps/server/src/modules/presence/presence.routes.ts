// GET /api/devices/:id/presence: a device's presence history.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ApiError, PresenceHistory, PresenceHistoryParams, PresenceHistoryQuery } from "@fleetwatch/contracts";
import type { PresenceService } from "./presence.service.ts";

export async function presenceRoutes(parent: FastifyInstance, { presence }: { presence: PresenceService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/devices/:id/presence",
    {
      schema: {
        tags: ["presence"],
        summary: "Whether a device is online, and its latest presence events (newest first)",
        params: PresenceHistoryParams,
        querystring: PresenceHistoryQuery,
        response: { 200: PresenceHistory, 400: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      const history = await presence.history(request.params.id, request.query.limit ?? 50);
      if (!history) return reply.code(404).send({ statusCode: 404, error: "Not Found", message: `no device "${request.params.id}"` });
      return { deviceId: request.params.id, online: history.online, items: history.events };
    },
  );
}
