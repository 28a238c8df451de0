// Liveness and readiness, for orchestrators and load balancers. /healthz answers as long
// as the process is alive; /readyz only when the database answers, the broker accepts
// connections and ingest is not stuck (no message has waited to be stored for longer than
// INGEST_STUCK_AFTER_MS), so such a node is taken out of rotation rather than killed.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Liveness, Readiness } from "@fleetwatch/contracts";

/** What /readyz asks. */
export interface ReadinessChecks {
  /** Whether the database answers. */
  database(): Promise<boolean>;
  /** Whether the broker is open and its MQTT listeners accept connections. */
  broker(): boolean;
  /** How long the oldest message not yet stored has waited, in ms (0: none waits). */
  ingestWaitedMs(): number;
  /** INGEST_STUCK_AFTER_MS: a longer wait means ingest is stuck. */
  ingestStuckAfterMs: number;
}

export async function healthRoutes(parent: FastifyInstance, { checks }: { checks: ReadinessChecks }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/healthz",
    { schema: { tags: ["health"], summary: "Liveness: 200 while the process runs", response: { 200: Liveness } } },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary:
          "Readiness: 200 when the database answers, the broker accepts connections and ingest flows; 503 with the reasons otherwise",
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const databaseUp = await checks.database();
      const brokerUp = checks.broker();
      const waitedMs = checks.ingestWaitedMs();
      const stuckAfterMs = checks.ingestStuckAfterMs;
      const ingestFlowing = waitedMs <= stuckAfterMs;
      const ready = databaseUp && brokerUp && ingestFlowing;
      const body: Readiness = {
        status: ready ? "ready" : "unavailable",
        checks: {
          database: databaseUp ? { ok: true } : { ok: false, detail: "the database did not answer" },
          broker: brokerUp ? { ok: true } : { ok: false, detail: "the MQTT broker is not accepting connections" },
          ingest: ingestFlowing
            ? { ok: true }
            : {
                ok: false,
                detail: `ingest is stuck: the oldest message waiting to be stored has waited ${(waitedMs / 1000).toFixed(1)} s (INGEST_STUCK_AFTER_MS: ${stuckAfterMs})`,
              },
        },
      };
      return reply.code(ready ? 200 : 503).send(body);
    },
  );
}
