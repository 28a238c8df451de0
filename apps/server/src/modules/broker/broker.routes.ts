// /api/broker: this node's broker counters (admins and monitoring scripts), and where
// devices connect (any operator: the device page shows it next to the device's client id).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { BrokerStats, DeviceEndpoints } from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import type { BrokerCounters } from "../../broker/limits.ts";
import { apiErrors } from "../../http/api.ts";
import { deviceEndpoints, type EndpointOptions } from "./endpoints.ts";

export interface BrokerRouteOptions {
  broker: Broker;
  counters: BrokerCounters;
  endpoints: EndpointOptions;
}

export async function brokerRoutes(parent: FastifyInstance, { broker, counters, endpoints }: BrokerRouteOptions) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/broker/stats",
    { config: { access: "admin" }, schema: { tags: ["broker"], response: { 200: BrokerStats, ...apiErrors } } },
    async () => ({
      nodeId: broker.id,
      connectedClients: broker.connectedClients,
      counters: counters.snapshot(),
    }),
  );

  app.get(
    "/broker/endpoints",
    {
      schema: {
        tags: ["broker"],
        summary:
          "The MQTT endpoints devices connect to (the same as handed out with new credentials); a device's client id and username are its id",
        response: { 200: DeviceEndpoints, ...apiErrors },
      },
    },
    async (request) => deviceEndpoints(request, endpoints),
  );
}
