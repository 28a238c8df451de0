// /api/broker: this node's broker and ingest counters (admins and monitoring scripts), and
// where devices connect (any operator: the device page shows it next to the device's client id).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { BrokerStats, DeviceEndpoints } from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import type { BrokerCounters } from "../../broker/limits.ts";
import type { Ingest, IngestStatistics } from "../../ingest/ingest.ts";
import { apiErrors } from "../../http/api.ts";
import { deviceEndpoints, type EndpointOptions } from "./endpoints.ts";

export interface BrokerAdminRouteOptions {
  broker: Broker;
  counters: BrokerCounters;
  ingest: Pick<Ingest, "stats">;
  endpoints: EndpointOptions;
}

/** Ingest's counts as flat counters: ingest_stored, ingest_rejected_<SQLSTATE>, ingest_bad_payload_<reason>, … */
function ingestCounters(stats: IngestStatistics): Record<string, number> {
  const { rejected, badPayloads, ...totals } = stats;
  const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`).replaceAll("-", "_");
  return {
    ...Object.fromEntries(Object.entries(totals).map(([name, count]) => [`ingest_${snake(name)}`, count])),
    ...Object.fromEntries(Object.entries(rejected).map(([code, count]) => [`ingest_rejected_${code}`, count])),
    ...Object.fromEntries(Object.entries(badPayloads).map(([reason, count]) => [`ingest_bad_payload_${snake(reason)}`, count])),
  };
}

export async function brokerAdminRoutes(parent: FastifyInstance, { broker, counters, ingest, endpoints }: BrokerAdminRouteOptions) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/broker/stats",
    {
      config: { access: "admin" },
      schema: { tags: ["broker"], summary: "This node's broker and ingest counters", response: { 200: BrokerStats, ...apiErrors } },
    },
    async () => ({
      nodeId: broker.id,
      connectedClients: broker.connectedClients,
      counters: { ...counters.snapshot(), ...ingestCounters(ingest.stats()) },
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
