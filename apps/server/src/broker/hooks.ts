// Adapters between aedes' callback hooks and our typed promise functions. aedes calls
// these; the rules live in gate.ts, and later steps (durable ingest) join the publish
// pipeline without touching the gate.
import type { AedesOptions, AuthenticateError, Client, PublishPacket } from "aedes";
import mqttPacket from "mqtt-packet";
import { hasNullCharacter, isSharedFilter } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import type { Gate, PublisherState, PublishRefusalReason } from "./gate.ts";
import { absentPublisherOf, attachPrincipal, principalOf } from "./identity.ts";
import { ownSharedSubscription, type SharedSubscriptions } from "./shared-subscriptions.ts";
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
  protocolVersion: number;
  clean: boolean;
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
 * negative acknowledgement, so for a 3.1.1 client authorizePublish below, the one refusal
 * path, closes the connection and logs the reason; an MQTT 5 client gets this code in its
 * PUBACK/PUBREC instead and keeps its connection (a QoS 0 message is dropped, having no ack).
 */
export const PUBLISH_REFUSAL_CODES: Record<PublishRefusalReason, number> = {
  "implementation-specific-error": 0x83,
  "not-authorized": 0x87,
  "topic-name-invalid": 0x90,
  "quota-exceeded": 0x97,
};

/**
 * A step refuses the message: its sender alone is told (3.1.1: its connection is closed; MQTT 5:
 * `reasonCode` in its PUBACK/PUBREC, read by aedes' publish handler).
 */
export class PublishRefused extends Error {
  readonly reasonCode: number;
  constructor(
    readonly reason: PublishRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = "PublishRefused";
    this.reasonCode = PUBLISH_REFUSAL_CODES[reason];
  }
}

/** MQTT 5 DISCONNECT reason codes the broker sends itself (section 3.14.2.1). */
export const DisconnectReason = {
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  sessionTakenOver: 0x8e,
  administrativeAction: 0x98,
} as const;

/**
 * A packet that breaks the protocol itself, e.g. U+0000 in an MQTT string [MQTT-1.5.3-2]: the
 * receiver must close the connection (MQTT 5 as well: DISCONNECT 0x81, Malformed Packet). It
 * is refused here, at the gate, before anything reaches PostgreSQL, whose text rejects U+0000.
 */
export class ProtocolViolation extends Error {
  /** Read by aedes' publish handler: an MQTT 5 client gets DISCONNECT 0x81 (Malformed Packet) [MQTT-1.5.4-2]. */
  readonly disconnectReasonCode = DisconnectReason.malformedPacket;
  constructor(message: string) {
    super(`protocol violation: ${message}`);
    this.name = "ProtocolViolation";
  }
}

/**
 * A publish step failed for a reason of the server's (the database, say), not of the message.
 * 3.1.1 closes the connection without an ack, so the client sends the message again; an MQTT 5
 * client is told with DISCONNECT 0x80 (Unspecified error) for the same effect: a negative
 * PUBACK would tell it that the message is finished with [MQTT-4.3.2-1].
 */
class PublishStepFailed extends Error {
  readonly disconnectReasonCode = DisconnectReason.unspecifiedError;
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "PublishStepFailed";
  }
}

/** The first of the named MQTT strings that contains U+0000, if any [MQTT-1.5.3-2]. */
function fieldWithNullCharacter(fields: Record<string, string | undefined>): string | undefined {
  return Object.entries(fields).find(([, value]) => value !== undefined && hasNullCharacter(value))?.[0];
}

/**
 * The first MQTT 5 property whose UTF-8 string (a user property's name or value included)
 * contains U+0000, if any: a Malformed Packet [MQTT-1.5.4-2]. Binary properties (correlation
 * data, authentication data) may hold any byte.
 */
export function propertyWithNullCharacter(properties: object | undefined): string | undefined {
  if (!properties) return undefined;
  for (const [name, value] of Object.entries(properties)) {
    if (typeof value === "string" && hasNullCharacter(value)) return name;
    if (name === "userProperties" && value && typeof value === "object") {
      for (const [key, entry] of Object.entries(value as Record<string, string | string[]>)) {
        const values = Array.isArray(entry) ? entry : [entry];
        if (hasNullCharacter(key) || values.some((item) => typeof item === "string" && hasNullCharacter(item))) return name;
      }
    }
  }
  return undefined;
}

export interface BrokerHooks {
  preConnect: NonNullable<AedesOptions["preConnect"]>;
  authenticate: NonNullable<AedesOptions["authenticate"]>;
  authorizePublish: NonNullable<AedesOptions["authorizePublish"]>;
  authorizeSubscribe: NonNullable<AedesOptions["authorizeSubscribe"]>;
  authorizeForward: NonNullable<AedesOptions["authorizeForward"]>;
}

/**
 * Whether the client may hold a subscription to this filter: the gate's rule, applied to the
 * filter inside for one of the client's own shared subscriptions (shared-subscriptions.ts), so
 * a device shares only filters of its own namespace [MQTT-4.8.2]. A malformed `$share/` filter
 * is refused [MQTT-4.8.2-1, MQTT-4.8.2-2].
 */
export function mayHoldSubscription(gate: Gate, client: Client, filter: string): boolean {
  const shared = ownSharedSubscription(client, filter);
  if (shared) return gate.authorizeSubscribe(principalOf(client), shared.filter);
  if (isSharedFilter(filter)) return false;
  return gate.authorizeSubscribe(principalOf(client), filter);
}

export function createHooks({
  gate,
  counters,
  logger,
  publishSteps,
  shared,
  maxKeepaliveS,
}: {
  gate: Gate;
  counters: BrokerCounters;
  logger: Logger;
  publishSteps: PublishStep[];
  /** Shared subscriptions across nodes; without them, `$share/` filters are refused. */
  shared?: SharedSubscriptions | undefined;
  /** MQTT_MAX_KEEPALIVE_S. */
  maxKeepaliveS: number;
}): BrokerHooks {
  return {
    preConnect(client, packet, callback) {
      // Before anything is looked up or stored: no CONNACK, the connection is closed [MQTT-1.5.3-2].
      const invalid =
        fieldWithNullCharacter({
          "client id": packet.clientId,
          "user name": packet.username,
          "will topic": packet.will?.topic,
        }) ??
        propertyWithNullCharacter(packet.properties) ??
        propertyWithNullCharacter(packet.will?.properties);
      if (invalid) {
        counters.increment("protocol_violation");
        return callback(new ProtocolViolation(`U+0000 in the CONNECT's ${invalid} [MQTT-1.5.3-2]`), false);
      }
      // aedes replaces a zero-length clientId with a generated one before authenticate
      // runs; the gate needs the original for [MQTT-3.1.3-8], and the will before it is stored.
      const keepalive = packet.keepalive ?? 0;
      connectInfo.set(client, {
        clientId: packet.clientId,
        protocolVersion: packet.protocolVersion ?? 4,
        clean: packet.clean ?? true,
        keepalive,
        willTopic: packet.will?.topic,
      });
      // MQTT 5: a keepalive above MQTT_MAX_KEEPALIVE_S is not refused but lowered, and the
      // client told so in CONNACK's Server Keep Alive [MQTT-3.1.2-21, MQTT-3.2.2-21]. aedes
      // does this only with its keepaliveLimit option, which would also refuse 3.1.1
      // clients' keepalive 0 (allowed here); its CONNECT handler reads this field.
      if (packet.protocolVersion === 5 && keepalive > maxKeepaliveS)
        (client as unknown as { _serverKeepAlive?: number })._serverKeepAlive = maxKeepaliveS;
      recordKeepalive(client, packet.keepalive);
      callback(null, true);
    },

    authenticate(client, username, password, callback) {
      const info = connectInfo.get(client);
      connectInfo.delete(client);
      gate
        .authenticate({
          clientId: info?.clientId ?? client.id,
          protocolVersion: info?.protocolVersion ?? client.version ?? 4,
          clean: info?.clean ?? client.clean,
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
              {
                clientId: info?.clientId,
                username,
                address: remoteAddressOf(client),
                returnCode: decision.returnCode,
                ...(decision.reasonCode === undefined ? {} : { reasonCode: decision.reasonCode }),
              },
              `MQTT CONNECT refused: ${decision.reason}`,
            );
            // reasonCode reaches an MQTT 5 client's CONNACK (our aedes patch); returnCode a 3.1.1 client's.
            const error = Object.assign(new Error(decision.reason), {
              returnCode: decision.returnCode,
              ...(decision.reasonCode === undefined ? {} : { reasonCode: decision.reasonCode }),
            }) as AuthenticateError;
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
          // The refusal path. For a 3.1.1 client, an error makes aedes close the connection
          // without an ack (no negative PUBACK). An MQTT 5 client gets a PublishRefused's
          // reasonCode in its PUBACK/PUBREC and keeps the connection; other errors carry a
          // disconnectReasonCode, so its connection is closed with that DISCONNECT.
          const log = { clientId: client?.id, topic: packet.topic.slice(0, 200), qos: packet.qos, ...(isWill ? { will: true } : {}) };
          if (error instanceof PublishRefused) {
            logger.warn(
              { ...log, reason: error.reason, reasonCode: PUBLISH_REFUSAL_CODES[error.reason] },
              `MQTT PUBLISH refused${isWill || client?.version === 5 ? "" : ", closing the connection"}: ${error.message}`,
            );
          } else if (!(error instanceof ProtocolViolation)) {
            // (A ProtocolViolation is logged with the connection's close, in broker.ts.)
            logger.warn({ ...log, err: error }, "publish step failed");
          }
          callback(error instanceof PublishRefused || error instanceof ProtocolViolation ? error : new PublishStepFailed(error));
        },
      );
    },

    authorizeSubscribe(client, subscription, callback) {
      // (A filter with U+0000 [MQTT-1.5.3-2] or a misplaced wildcard never gets here: aedes'
      // patched filter check refuses the whole SUBSCRIBE first, with DISCONNECT 0x81 for MQTT 5.)
      const membership = shared ? ownSharedSubscription(client, subscription.topic) : null;
      if (membership && (subscription as { nl?: boolean }).nl) {
        counters.increment("protocol_violation");
        return callback(new ProtocolViolation("No Local on a shared subscription [MQTT-3.8.3-4]"), null);
      }
      if (!mayHoldSubscription(gate, client, subscription.topic)) {
        counters.increment("subscribe_denied");
        const filter = membership ? `$share/${membership.group}/${membership.filter}` : subscription.topic;
        logger.info({ clientId: client.id, filter }, "MQTT SUBSCRIBE refused (SUBACK 0x80; MQTT 5: 0x87)");
        // A null subscription makes aedes answer 0x80 for this filter [MQTT-3.9.3-2] (MQTT 5:
        // 0x87, Not authorized) and keep the connection.
        return callback(null, null);
      }
      if (!membership || !shared) return callback(null, subscription);
      // The member is recorded before the SUBACK, so the group's next message may be its own.
      shared.join(client, membership, subscription.qos).then(
        () => callback(null, subscription),
        (error: unknown) => {
          logger.warn({ clientId: client.id, err: error, group: membership.group }, "a shared subscription could not be recorded; refused");
          callback(null, null);
        },
      );
    },

    authorizeForward(client, packet) {
      const mayReceive = (topic: string) => gate.mayReceive(principalOf(client), topic);
      // A shared subscription's copy becomes the message itself, for its chosen member only.
      const sharedCopy = shared?.forward(client, packet, mayReceive);
      // Whatever subscription matched (one restored from storage, a message queued for an
      // offline session), a client receives only topics it may read. (null from the shared
      // subscriptions means "a copy for another member": dropped here.)
      let delivered: typeof packet | null;
      if (sharedCopy !== undefined) delivered = sharedCopy;
      else delivered = mayReceive(packet.topic) ? packet : null;
      if (delivered === null) return null;
      // An MQTT 5 client's Maximum Packet Size: a larger PUBLISH is discarded as if it had
      // been delivered [MQTT-3.1.2-24, MQTT-3.1.2-25] (aedes treats the limit as advisory).
      if (exceedsClientMaximum(client, delivered)) {
        counters.increment("publish_over_client_maximum");
        logger.debug({ clientId: client.id, topic: delivered.topic }, "PUBLISH not sent: above the client's Maximum Packet Size");
        return null;
      }
      return delivered;
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

/**
 * Whether the PUBLISH, as sent to this MQTT 5 client, could exceed the Maximum Packet Size it
 * announced in CONNECT. Encoded only for clients that announced one. The packet here already
 * carries its subscription identifier (aedes adds it before this hook, on live and retained
 * deliveries alike); encoded with a packet identifier (2 bytes a QoS 0 message does not carry),
 * plus the topic alias the aedes patch may add as it writes the packet (a topic's first aliased
 * PUBLISH carries both). Never above the limit, at most 2 bytes cautious (QoS 0); the edge is
 * tested in mqtt5-flow-control.test.ts, through ordinary and shared subscriptions.
 */
function exceedsClientMaximum(client: Client, packet: PublishPacket): boolean {
  const maximum = (client as unknown as { maximumPacketSize?: number }).maximumPacketSize;
  if (client.version !== 5 || maximum === undefined) return false;
  const size = mqttPacket.generate({ ...packet, messageId: 1, qos: packet.qos || 1 }, { protocolVersion: 5 }).length;
  return size + TOPIC_ALIAS_BYTES > maximum;
}

/** The Topic Alias property: its identifier (1 byte) and a two-byte integer [MQTT-2.2.2.2]. */
const TOPIC_ALIAS_BYTES = 3;

/** The gate's PUBLISH check as the first step of the pipeline. */
export function gatePublishStep({ gate, counters }: { gate: Gate; counters: BrokerCounters }): PublishStep {
  return async (client, packet, { isWill }) => {
    // A delayed will, published after its client left, with the rights that client had: under
    // the rules of now (anonymous access may have been turned off, the topic limit lowered).
    const absent = client ? undefined : absentPublisherOf(packet);
    let state: PublisherState;
    if (client) state = publisherStates.get(client) ?? { principal: principalOf(client) };
    else if (absent) state = { principal: absent };
    // A will of a client whose node died: its topic was checked when that client connected.
    else return;
    const property = propertyWithNullCharacter(packet.properties);
    if (property) {
      counters.increment("protocol_violation");
      throw new ProtocolViolation(`U+0000 in the PUBLISH's ${property} property [MQTT-1.5.4-2]`);
    }
    // The Last Will is checked at CONNECT; at disconnect it must not be refused because the
    // device spent its publish budget.
    const decision = gate.authorizePublish(isWill || absent ? { principal: state.principal } : state, packet.topic);
    if (decision.ok) return;
    counters.increment(decision.counter);
    throw decision.refusal === "protocol-violation"
      ? new ProtocolViolation(decision.reason)
      : new PublishRefused(decision.refusal, decision.reason);
  };
}
