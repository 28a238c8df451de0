// /api/broker/stats: this node's broker counters, for admins and monitoring scripts.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { BrokerStats } from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import type { BrokerCounters } from "../../broker/limits.ts";
import { apiErrors } from "../../http/api.ts";

export async function brokerRoutes(parent: FastifyInstance, { broker, counters }: { broker: Broker; counters: BrokerCounters }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get("/broker/stats", { config: { access: "admin" }, schema: { tags: ["broker"], response: { 200: BrokerStats, ...apiErrors } } }, async () => ({
    nodeId: broker.id,
    connectedClients: broker.connectedClients,
    counters: counters.snapshot(),
  }));
}
