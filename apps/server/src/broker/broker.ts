// The embedded MQTT broker. aedes does the protocol; this module configures it, installs
// the access gate and the publish pipeline, and turns its error events into log lines, so
// that no misbehaving client can take the process down.
import { Aedes, type AedesOptions } from "aedes";
import type { BrokerLimits } from "../config.ts";
import type { Logger } from "../logger.ts";
import { isForgotten, listenForControl } from "./control.ts";
import type { Gate } from "./gate.ts";
import { createHooks, gatePublishStep, PublishRefused, type PublishStep } from "./hooks.ts";
import type { BrokerCounters } from "./limits.ts";

export type Broker = Aedes;

export interface BrokerSetup {
  gate: Gate;
  counters: BrokerCounters;
  limits: BrokerLimits;
  /** Steps after the gate's PUBLISH check, in order: the pipeline is [gate, ...publishSteps]. */
  publishSteps?: PublishStep[];
  /** Persistence, mq and other aedes options (the hooks are ours). */
  aedes?: Omit<AedesOptions, "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe">;
}

export async function createBroker(logger: Logger, setup: BrokerSetup): Promise<Broker> {
  const log = logger.child({ component: "broker" });
  const { gate, counters, limits } = setup;
  // A deleted device's will is dropped: its topics are being cleared, and a late will would
  // bring a retained status back.
  const forgottenWills: PublishStep = async (client, _packet, { isWill }) => {
    if (client && isWill && isForgotten(client)) throw new PublishRefused("device deleted");
  };
  const hooks = createHooks({ gate, counters, logger: log, publishSteps: [gatePublishStep({ gate, counters, logger: log }), forgottenWills, ...(setup.publishSteps ?? [])] });
  const broker = await Aedes.createBroker({
    ...setup.aedes,
    ...hooks,
    connectTimeout: limits.connectTimeoutMs,
    maxTopicLevels: limits.maxTopicLevels,
  });

  // A client that sends a malformed packet or drops mid-write surfaces here; aedes closes
  // that client and keeps serving everyone else.
  broker.on("clientError", (client, error) => log.warn({ clientId: client.id, err: error.message }, "client error"));
  broker.on("connectionError", (client, error) => {
    if (error.message === "connect did not arrive in time") {
      counters.increment("connect_timeout");
      log.info({ address: (client.conn as { remoteAddress?: string }).remoteAddress }, "closed a connection that sent no CONNECT in time");
      return;
    }
    log.warn({ clientId: client.id, err: error.message }, "connection error before CONNECT completed");
  });
  // 'error' is not in aedes' typings but EventEmitter throws an unhandled 'error' event;
  // listening for it keeps the broker (and the process) alive.
  (broker as unknown as NodeJS.EventEmitter).on("error", (error: Error) => log.error({ err: error }, "broker error"));
  broker.on("client", (client) => log.debug({ clientId: client.id }, "client connected"));
  broker.on("clientDisconnect", (client) => log.debug({ clientId: client.id }, "client disconnected"));
  await listenForControl(broker, log);
  return broker;
}

export function closeBroker(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
