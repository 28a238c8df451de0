// Adapters between aedes' callback hooks and our typed promise functions. aedes calls
// these; the rules live in gate.ts, and later steps (durable ingest) join the publish
// pipeline without touching the gate.
import type { AedesOptions, AuthenticateError, Client, PublishPacket } from "aedes";
import { hasNullCharacter } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import type { Gate, PublisherState, PublishRefusalReason } from "./gate.ts";
import { attachPrincipal, principalOf } from "./identity.ts";
import type { BrokerCounters } from "./limits.ts";
import { recordKeepalive } from "./connection-facts.ts";

/**
 * One step of PUBLISH authorization. Resolve to let the message through, reject (with
 * PublishRefused, or ProtocolViolation) to refuse it: MQTT 3.1.1 has no negative PUBACK, so a
 * refusal closes the client's connection and nothing is delivered or stored. `client` is null
 * for a Last Will that aedes publishes on behalf of a client of a node that died.
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
const closeActions = new WeakMap<Client, () => void>();

/** The connection ended (aedes' clientDisconnect): runs what the gate asked to run then. */
export function connectionEnded(client: Client): void {
  closeActions.get(client)?.();
  closeActions.delete(client);
}

export function remoteAddressOf(client: Client): string {
  const conn = client.conn as { remoteAddress?: string };
  return conn.remoteAddress ?? client.req?.socket.remoteAddress ?? "unknown";
}

/**
 * The PUBACK/PUBREC reason code of each refusal (MQTT 5, section 3.4.2.1). MQTT 3.1.1 has no
 * negative acknowledgement, so authorizePublish below, the one refusal path, closes the
 * connection and logs the reason; an MQTT 5 client is to get this code instead, and keep its
 * connection where the spec allows.
 */
export const PUBLISH_REFUSAL_CODES: Record<PublishRefusalReason, number> = {
  "implementation-specific-error": 0x83,
  "not-authorized": 0x87,
  "topic-name-invalid": 0x90,
  "quota-exceeded": 0x97,
};

/** A step refuses the message: its sender alone is told (today: its connection is closed). */
export class PublishRefused extends Error {
  constructor(
    readonly reason: PublishRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = "PublishRefused";
  }
}

/**
 * A packet that breaks the protocol itself, e.g. U+0000 in an MQTT string [MQTT-1.5.3-2]: the
 * receiver must close the connection (MQTT 5 as well: DISCONNECT 0x81, Malformed Packet). It
 * is refused here, at the gate, before anything reaches PostgreSQL, whose text rejects U+0000.
 */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(`protocol violation: ${message}`);
    this.name = "ProtocolViolation";
  }
}

/** The first of the named MQTT strings that contains U+0000, if any [MQTT-1.5.3-2]. */
function fieldWithNullCharacter(fields: Record<string, string | undefined>): string | undefined {
  return Object.entries(fields).find(([, value]) => value !== undefined && hasNullCharacter(value))?.[0];
}

export interface BrokerHooks {
  preConnect: NonNullable<AedesOptions["preConnect"]>;
  authenticate: NonNullable<AedesOptions["authenticate"]>;
  authorizePublish: NonNullable<AedesOptions["authorizePublish"]>;
  authorizeSubscribe: NonNullable<AedesOptions["authorizeSubscribe"]>;
  authorizeForward: NonNullable<AedesOptions["authorizeForward"]>;
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
      // Before anything is looked up or stored: no CONNACK, the connection is closed [MQTT-1.5.3-2].
      const invalid = fieldWithNullCharacter({
        "client id": packet.clientId,
        "user name": packet.username,
        "will topic": packet.will?.topic,
      });
      if (invalid) {
        counters.increment("protocol_violation");
        return callback(new ProtocolViolation(`U+0000 in the CONNECT's ${invalid} [MQTT-1.5.3-2]`), false);
      }
      // aedes replaces a zero-length clientId with a generated one before authenticate
      // runs; the gate needs the original for [MQTT-3.1.3-8], and the will before it is stored.
      connectInfo.set(client, { clientId: packet.clientId, keepalive: packet.keepalive ?? 0, willTopic: packet.will?.topic });
      recordKeepalive(client, packet.keepalive);
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
              if (decision.onClose) closeActions.set(client, decision.onClose);
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
      const isWill = isWillOf(client, packet);
      runPublishSteps(publishSteps, client, packet, { isWill }).then(
        () => callback(null),
        (error: unknown) => {
          // The refusal path. An error makes aedes close the connection without an ack
          // (MQTT 3.1.1 has no negative PUBACK). MQTT 5 is to answer a PublishRefused with
          // PUBLISH_REFUSAL_CODES[error.reason] here instead; a ProtocolViolation still closes.
          const log = { clientId: client?.id, topic: packet.topic.slice(0, 200), qos: packet.qos, ...(isWill ? { will: true } : {}) };
          if (error instanceof PublishRefused) {
            logger.warn(
              { ...log, reason: error.reason, reasonCode: PUBLISH_REFUSAL_CODES[error.reason] },
              `MQTT PUBLISH refused${isWill ? "" : ", closing the connection"}: ${error.message}`,
            );
          } else if (!(error instanceof ProtocolViolation)) {
            // (A ProtocolViolation is logged with the connection's close, in broker.ts.)
            logger.warn({ ...log, err: error }, "publish step failed");
          }
          callback(error instanceof Error ? error : new Error(String(error)));
        },
      );
    },

    authorizeSubscribe(client, subscription, callback) {
      // Before the subscription is stored or retained messages are looked up [MQTT-1.5.3-2].
      if (hasNullCharacter(subscription.topic)) {
        counters.increment("protocol_violation");
        return callback(new ProtocolViolation("U+0000 in a SUBSCRIBE topic filter [MQTT-1.5.3-2]"), null);
      }
      if (gate.authorizeSubscribe(principalOf(client), subscription.topic)) return callback(null, subscription);
      counters.increment("subscribe_denied");
      logger.info({ clientId: client.id, filter: subscription.topic }, "MQTT SUBSCRIBE refused (SUBACK 0x80)");
      // A null subscription makes aedes answer 0x80 for this filter [MQTT-3.9.3-2] and keep the connection.
      callback(null, null);
    },

    authorizeForward(client, packet) {
      // Whatever subscription matched (one restored from storage, a message queued for an
      // offline session), a client receives only topics it may read.
      return gate.mayReceive(principalOf(client), packet.topic) ? packet : null;
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
export function gatePublishStep({ gate, counters }: { gate: Gate; counters: BrokerCounters }): PublishStep {
  return async (client, packet, { isWill }) => {
    // A will of a client whose node died: its topic was checked when that client connected.
    if (!client) return;
    const state = publisherStates.get(client) ?? { principal: principalOf(client) };
    // The Last Will is checked at CONNECT; at disconnect it must not be refused because the
    // device spent its publish budget.
    const decision = gate.authorizePublish(isWill ? { principal: state.principal } : state, packet.topic);
    if (decision.ok) return;
    counters.increment(decision.counter);
    throw decision.refusal === "protocol-violation"
      ? new ProtocolViolation(decision.reason)
      : new PublishRefused(decision.refusal, decision.reason);
  };
}
