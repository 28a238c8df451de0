// /api/broker/clients: the MQTT clients connected to any node of the deployment (admins and
// operators), and disconnecting one (admins).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import {
  BrokerClientDisconnect,
  BrokerClientDisconnected,
  BrokerClientList,
  BrokerClientParams,
  BrokerClientsQuery,
} from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { BrokerClientsService } from "./broker-clients.service.ts";

export async function brokerClientsRoutes(parent: FastifyInstance, { brokerClients }: { brokerClients: BrokerClientsService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/broker/clients",
    {
      // Who is connected, from where, is operational detail: not for viewers.
      config: { access: "operator" },
      schema: {
        tags: ["broker"],
        summary:
          "The MQTT clients connected now to any node, in client id order, paginated; search by client id prefix, filter by kind, transport, node and protocol",
        querystring: BrokerClientsQuery,
        response: { 200: BrokerClientList, ...apiErrors },
      },
    },
    async (request) => brokerClients.list(request.query),
  );

  app.post(
    "/broker/clients/:clientId/disconnect",
    {
      config: { access: "admin" },
      schema: {
        tags: ["broker"],
        summary:
          "Close a client's connection on whichever node holds it (its will is published); session keep: a persistent session keeps its subscriptions and queued messages, clear: they are discarded. 404 when it is not connected",
        params: BrokerClientParams,
        body: BrokerClientDisconnect,
        response: { 202: BrokerClientDisconnected, ...apiErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await brokerClients.disconnect(request.params.clientId, request.body.session)),
  );
}
