// Adapters between aedes' callback hooks and our typed promise functions. aedes calls
// these; the rules live in gate.ts, and later steps (durable ingest) join the publish
// pipeline without touching the gate.
import type { AedesOptions, AuthenticateError, Client, PublishPacket } from "aedes";
import type { Logger } from "../logger.ts";
import type { Gate, PublisherState } from "./gate.ts";
import { attachPrincipal, principalOf } from "./identity.ts";
import type { BrokerCounters } from "./limits.ts";

/**
 * One step of PUBLISH authorization. Resolve to let the message through, reject to refuse
 * it: MQTT 3.1.1 has no negative PUBACK, so a refusal closes the client's connection and
 * nothing is delivered or stored. `client` is null for a Last Will that aedes publishes
 * on behalf of a client of a node that died.
 */
export type PublishStep = (client: Client | null, packet: PublishPacket, context: PublishContext) => Promise<void>;

export interface PublishContext {
  /** The packet is the client's Last Will, published by the broker as the connection ends. */
  isWill: boolean;
}

/** aedes hands the stored will object itself to authorizePublish, and clears it right after the (synchronous) call. */
const isWillOf = (client: Client | null, packet: PublishPacket) =>
  client !== null && packet === (client as unknown as { will?: unknown }).will;

/** What the client sent in CONNECT, kept from preConnect until authenticate. */
interface ConnectInfo {
  clientId: string;
  keepalive: number;
  willTopic: string | undefined;
}

const connectInfo = new WeakMap<Client, ConnectInfo>();
const publisherStates = new WeakMap<Client, PublisherState>();

export function remoteAddressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? client.req?.socket.remoteAddress ?? "unknown";
}

export class PublishRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PublishRefused";
  }
}

export interface BrokerHooks {
  preConnect: NonNullable<AedesOptions["preConnect"]>;
  authenticate: NonNullable<AedesOptions["authenticate"]>;
  authorizePublish: NonNullable<AedesOptions["authorizePublish"]>;
  authorizeSubscribe: NonNullable<AedesOptions["authorizeSubscribe"]>;
}

export function createHooks({
  gate,
  counters,
  logger,
  publishSteps,
}: {
  gate: Gate;
  counters: BrokerCounters;
  logger: Logger;
  publishSteps: PublishStep[];
}): BrokerHooks {
  return {
    preConnect(client, packet, callback) {
      // aedes replaces a zero-length clientId with a generated one before authenticate
      // runs; the gate needs the original for [MQTT-3.1.3-8], and the will before it is stored.
      connectInfo.set(client, { clientId: packet.clientId, keepalive: packet.keepalive ?? 0, willTopic: packet.will?.topic });
      callback(null, true);
    },

    authenticate(client, username, password, callback) {
      const info = connectInfo.get(client);
      connectInfo.delete(client);
      gate
        .authenticate({
          clientId: info?.clientId ?? client.id,
          clean: client.clean,
          keepalive: info?.keepalive ?? 0,
          username,
          password,
          willTopic: info?.willTopic,
          remoteAddress: remoteAddressOf(client),
        })
        .then(
          (decision) => {
            if (decision.ok) {
              attachPrincipal(client, decision.principal);
              publisherStates.set(client, gate.publisherState(decision.principal));
              return callback(null, true);
            }
            logger.info(
              { clientId: info?.clientId, username, address: remoteAddressOf(client), returnCode: decision.returnCode },
              `MQTT CONNECT refused: ${decision.reason}`,
            );
            const error = Object.assign(new Error(decision.reason), { returnCode: decision.returnCode }) as AuthenticateError;
            callback(error, false);
          },
          (error: unknown) => {
            // The directory (database) failed: tell the client to come back later [CONNACK 0x03].
            logger.warn({ err: error, clientId: client.id }, "MQTT CONNECT could not be checked");
            callback(Object.assign(new Error("server unavailable"), { returnCode: 3 }), false);
          },
        );
    },

    authorizePublish(client, packet, callback) {
      runPublishSteps(publishSteps, client, packet, { isWill: isWillOf(client, packet) }).then(
        () => callback(null),
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          if (!(error instanceof PublishRefused))
            logger.warn({ err: error, clientId: client?.id, topic: packet.topic }, "publish step failed");
          callback(error instanceof Error ? error : new Error(message));
        },
      );
    },

    authorizeSubscribe(client, subscription, callback) {
      if (gate.authorizeSubscribe(principalOf(client), subscription.topic)) return callback(null, subscription);
      counters.increment("subscribe_denied");
      logger.info({ clientId: client.id, filter: subscription.topic }, "MQTT SUBSCRIBE refused (SUBACK 0x80)");
      // A null subscription makes aedes answer 0x80 for this filter [MQTT-3.9.3-2] and keep the connection.
      callback(null, null);
    },
  };

  async function runPublishSteps(
    steps: PublishStep[],
    client: Client | null,
    packet: PublishPacket,
    context: PublishContext,
  ): Promise<void> {
    for (const step of steps) await step(client, packet, context);
  }
}

/** The gate's PUBLISH check as the first step of the pipeline. */
export function gatePublishStep({ gate, counters, logger }: { gate: Gate; counters: BrokerCounters; logger: Logger }): PublishStep {
  return async (client, packet, { isWill }) => {
    // A will of a client whose node died: its topic was checked when that client connected.
    if (!client) return;
    const state = publisherStates.get(client) ?? { principal: principalOf(client) };
    // The Last Will is checked at CONNECT; at disconnect it must not be refused because the
    // device spent its publish budget.
    const decision = gate.authorizePublish(isWill ? { principal: state.principal } : state, packet.topic);
    if (decision.ok) return;
    counters.increment(decision.counter);
    logger.warn(
      { clientId: client.id, topic: packet.topic.slice(0, 200) },
      `MQTT PUBLISH refused, closing the connection: ${decision.reason}`,
    );
    throw new PublishRefused(decision.reason);
  };
}
