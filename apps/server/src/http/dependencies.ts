// What the HTTP side is built from. Infrastructure (database, broker) is created by
// server.ts and handed in, because its shutdown order spans more than HTTP. A file of its own
// so that route modules can name it without importing app.ts, which imports them.
import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Broker } from "../broker/broker.ts";
import type { Gate } from "../broker/gate.ts";
import type { BrokerCounters } from "../broker/limits.ts";
import type { MqttTransport } from "../broker/transport.ts";
import type { Ingest } from "../ingest/ingest.ts";
import type { Logger } from "../logger.ts";
import type { PlatformApi } from "../modules/platform.routes.ts";

export interface AppDependencies {
  config: Config;
  logger: Logger;
  database: Database;
  broker: Broker;
  /** Whether the MQTT listeners accept connections (for /readyz). */
  brokerListening: () => boolean;
  /** Where MQTT over WebSocket connections enter the broker. */
  transport: MqttTransport;
  counters: BrokerCounters;
  /** The MQTT ports actually bound (for the endpoints handed to devices). */
  mqttPorts: { mqtt: number; mqtts?: number | undefined };
  /** Retained state, presence, alerts and fleet summary. */
  platform: PlatformApi;
  /** The broker's access rules, shared with the live channel's subscriptions. */
  gate: Gate;
  /** For /readyz (whether ingest is stuck) and the broker stats (its counters). */
  ingest: Pick<Ingest, "oldestWaitingMs" | "stats">;
}
