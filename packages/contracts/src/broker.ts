// GET /api/broker/stats: this node's broker counters (admins only).
import { Type, type Static } from "typebox";

export const BrokerStats = Type.Object(
  {
    nodeId: Type.String(),
    connectedClients: Type.Integer(),
    counters: Type.Record(Type.String(), Type.Integer(), {
      description:
        "Events since this node started: refused connects, limit disconnects, denials, and ingest's counts (ingest_stored, ingest_rejected_<SQLSTATE>, ingest_bad_payload_<reason>, ingest_unstorable_metric_names, ...)",
    }),
  },
  { $id: "BrokerStats" },
);
export type BrokerStats = Static<typeof BrokerStats>;
