// GET /api/devices/:id/state: the device's retained messages, its current state.
// GET /api/retained: the retained messages matching a topic filter, across devices.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { DeviceParams, DeviceState, RetainedList, RetainedQuery } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { StateService } from "./state.service.ts";

export async function stateRoutes(parent: FastifyInstance, { state }: { state: StateService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/devices/:id/state",
    {
      schema: {
        tags: ["devices"],
        summary: "The retained messages under the device's topics: its current state",
        params: DeviceParams,
        response: { 200: DeviceState, ...apiErrors },
      },
    },
    async (request) => state.stateOf(request.params.id),
  );

  app.get(
    "/retained",
    {
      schema: {
        tags: ["messages"],
        summary: "The retained messages whose topics match an MQTT topic filter, by topic",
        querystring: RetainedQuery,
        response: { 200: RetainedList, ...apiErrors },
      },
    },
    async (request) => state.retainedMatching(request.query),
  );
}
