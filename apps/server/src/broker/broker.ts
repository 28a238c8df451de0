// The embedded MQTT broker. aedes does the protocol; this module configures it and turns
// its error events into log lines, so that no misbehaving client can take the process down.
import { Aedes, type AedesOptions } from "aedes";
import type { Logger } from "../logger.ts";

export type Broker = Aedes;

export async function createBroker(logger: Logger, options: AedesOptions = {}): Promise<Broker> {
  const log = logger.child({ component: "broker" });
  const broker = await Aedes.createBroker(options);

  // A client that sends a malformed packet or drops mid-write surfaces here; aedes closes
  // that client and keeps serving everyone else.
  broker.on("clientError", (client, error) => log.warn({ clientId: client.id, err: error.message }, "client error"));
  broker.on("connectionError", (client, error) => log.warn({ clientId: client.id, err: error.message }, "connection error before CONNECT completed"));
  // 'error' is not in aedes' typings but EventEmitter throws an unhandled 'error' event;
  // listening for it keeps the broker (and the process) alive.
  (broker as unknown as NodeJS.EventEmitter).on("error", (error: Error) => log.error({ err: error }, "broker error"));
  broker.on("client", (client) => log.debug({ clientId: client.id }, "client connected"));
  broker.on("clientDisconnect", (client) => log.debug({ clientId: client.id }, "client disconnected"));
  return broker;
}

export function closeBroker(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
