// Liveness and readiness, for orchestrators and load balancers. /healthz answers as long
// as the process is alive; /readyz only when the database answers and the broker accepts
// connections, so a node with a lost database is taken out of rotation rather than killed.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Liveness, Readiness } from "@fleetwatch/contracts";
import type { AppDependencies } from "../../http/dependencies.ts";

export async function healthRoutes(parent: FastifyInstance, deps: AppDependencies) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get("/healthz", { schema: { tags: ["health"], response: { 200: Liveness } } }, async () => ({ status: "ok" as const }));

  app.get("/readyz", { schema: { tags: ["health"], response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const databaseUp = await deps.database.ping();
    const brokerUp = !deps.broker.closed && deps.brokerListening();
    const body: Readiness = {
      status: databaseUp && brokerUp ? "ready" : "unavailable",
      checks: {
        database: databaseUp ? { ok: true } : { ok: false, detail: "the database did not answer" },
        broker: brokerUp ? { ok: true } : { ok: false, detail: "the MQTT broker is not accepting connections" },
      },
    };
    return reply.code(databaseUp && brokerUp ? 200 : 503).send(body);
  });
}
