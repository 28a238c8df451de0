// The embedded MQTT broker. aedes does the protocol; this module configures it, installs
// the access gate and the publish pipeline, and turns its error events into log lines, so
// that no misbehaving client can take the process down.
import { Aedes, type AedesOptions, type Client } from "aedes";
import { Readable } from "node:stream";
import { hasNullCharacter } from "@fleetwatch/contracts";
import { isOutage } from "../db/outage.ts";
import type { BrokerLimits } from "../config.ts";
import type { Logger } from "../logger.ts";
import { isForgotten, listenForControl } from "./control.ts";
import type { Gate } from "./gate.ts";
import {
  connectionEnded,
  createHooks,
  DisconnectReason,
  gatePublishStep,
  mayHoldSubscription,
  remoteAddressOf,
  ProtocolViolation,
  PublishRefused,
  type PublishStep,
} from "./hooks.ts";
import type { BrokerCounters } from "./limits.ts";
import type { SharedSubscriptions } from "./shared-subscriptions.ts";
import { ownSharedSubscription } from "./shared-subscriptions.ts";

export type Broker = Aedes;

export interface BrokerSetup {
  gate: Gate;
  counters: BrokerCounters;
  limits: BrokerLimits;
  /** Steps after the gate's PUBLISH check, in order: the pipeline is [gate, ...publishSteps]. */
  publishSteps?: PublishStep[];
  /**
   * A QoS 2 flow's PUBREL arrived. PUBCOMP is sent once this resolves; when it rejects, the
   * connection is closed instead, so the client sends PUBREL again after reconnecting
   * [MQTT-4.3.3-2, MQTT-4.4.0-1].
   */
  onPubrel?: (client: Client, messageId: number) => Promise<void>;
  /** A clean session starts or ends: its inbound QoS 2 state is discarded [MQTT-3.1.2-6]. Must not block. */
  onCleanSession?: (client: Client) => void;
  /** Shared subscriptions ($share/{group}/{filter}) across nodes; without them, such filters are refused. */
  shared?: SharedSubscriptions;
  /** Persistence, mq and other aedes options (the hooks are ours). */
  aedes?: Omit<AedesOptions, "preConnect" | "authenticate" | "authorizePublish" | "authorizeSubscribe" | "authorizeForward">;
}

export async function createBroker(logger: Logger, setup: BrokerSetup): Promise<Broker> {
  const log = logger.child({ component: "broker" });
  const { gate, counters, limits } = setup;
  // A deleted device's will is dropped: its topics are being cleared, and a late will would
  // bring a retained status back.
  const forgottenWills: PublishStep = async (client, _packet, { isWill }) => {
    if (client && isWill && isForgotten(client)) throw new PublishRefused("not-authorized", "device deleted");
  };
  const hooks = createHooks({
    gate,
    counters,
    logger: log,
    publishSteps: [gatePublishStep({ gate, counters }), forgottenWills, ...(setup.publishSteps ?? [])],
    shared: setup.shared,
    maxKeepaliveS: limits.maxKeepaliveS,
  });
  const broker = await Aedes.createBroker({
    ...setup.aedes,
    ...hooks,
    // A v5 CONNACK says whether $share/ filters work (our patch of aedes reads this) [MQTT-3.2.2-13].
    sharedSubscriptionAvailable: setup.shared !== undefined,
    connectTimeout: limits.connectTimeoutMs,
    maxTopicLevels: limits.maxTopicLevels,
    // MQTT 5 CONNACK announces these [MQTT-3.2.2-15]; 3.1.1 clients never see them. The
    // packet size is enforced before aedes by the transport's PacketSizeGuard.
    maximumPacketSize: limits.maxPacketBytes,
    topicAliasMaximum: limits.topicAliasMaximum,
    // Announced in a v5 CONNACK and enforced (our aedes patch: one bound for a v5 client's
    // QoS 1 and 2, and for a 3.1.1 client's QoS 2 awaiting PUBREL) [MQTT-3.3.4-9].
    receiveMaximum: limits.receiveMaximum,
  });
  observeIncomingFlows(broker, setup, log);
  guardStoredSubscriptions(broker, gate);
  tolerateOutageOnCleanConnect(broker, log);
  if (setup.shared) await followSharedMembers(broker, setup.shared, log);

  // A client that sends a malformed packet or drops mid-write surfaces here; aedes closes
  // that client and keeps serving everyone else.
  broker.on("clientError", (client, error) => {
    // An MQTT 5 client's refused PUBLISH is answered and was logged by the hook (hooks.ts); aedes reports it here too.
    if (error instanceof PublishRefused) return;
    // A malformed topic filter (a misplaced wildcard, U+0000) is found by aedes' own check, patched to
    // mark it so (an MQTT 5 client gets DISCONNECT 0x81): counted here, as the gate counts its own.
    const malformedFilter = !(error instanceof ProtocolViolation) && isMalformedPacket(error);
    if (malformedFilter) counters.increment("protocol_violation");
    if (error instanceof ProtocolViolation || malformedFilter)
      log.warn({ clientId: client.id, address: remoteAddressOf(client) }, `MQTT connection closed: ${error.message}`);
    else log.warn({ clientId: client.id, err: error.message }, "client error");
  });
  broker.on("connectionError", (client, error) => {
    if (error instanceof ProtocolViolation) {
      log.warn({ address: remoteAddressOf(client) }, `MQTT connection closed before CONNACK: ${error.message}`);
      return;
    }
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
  // A v5 client at its Receive Maximum has more QoS 1/2 messages waiting than SESSION_QUEUE_LIMIT (our aedes patch).
  broker.on("outboundDropped", (client) => {
    counters.increment("publish_over_client_receive_maximum");
    log.debug({ clientId: client.id }, "PUBLISH dropped: too many waiting for the client's Receive Maximum");
  });
  broker.on("client", (client) => log.debug({ clientId: client.id }, "client connected"));
  broker.on("clientDisconnect", (client) => {
    connectionEnded(client);
    log.debug({ clientId: client.id }, "client disconnected");
  });
  // A device's credentials changed: this node stops vouching for its secret before closing its connection.
  await listenForControl(broker, log, { onDeviceRevoked: (deviceId) => gate.forgetDevice(deviceId) });
  return broker;
}

interface IncomingPersistence {
  incomingGetPacket(client: Client, packet: { cmd?: string; messageId?: number }): Promise<unknown>;
  cleanIncoming?(client: Client): Promise<void>;
}

/**
 * aedes has no PUBREL or session events, but it reaches its persistence at both moments,
 * whatever the persistence is: its PUBREL handler looks the flow up with
 * incomingGetPacket before it deletes it and sends PUBCOMP (lib/handlers/pubrel.js; the QoS 2
 * PUBLISH path calls it too, with the PUBLISH packet), and a clean session's CONNECT and
 * close call cleanIncoming (lib/handlers/connect.js, lib/client.js). Wrapping those two
 * methods observes both.
 */
function observeIncomingFlows(broker: Broker, hooks: Pick<BrokerSetup, "onPubrel" | "onCleanSession">, log: Logger): void {
  const persistence = (broker as unknown as { persistence: IncomingPersistence }).persistence;
  const { onPubrel, onCleanSession } = hooks;
  if (onPubrel) {
    const incomingGetPacket = persistence.incomingGetPacket.bind(persistence);
    persistence.incomingGetPacket = async (client, packet) => {
      if (packet.cmd === "pubrel" && packet.messageId !== undefined) {
        try {
          await onPubrel(client, packet.messageId);
        } catch (error) {
          log.warn(
            { clientId: client.id, err: (error as Error).message },
            "PUBREL not completed; closing the connection so the client repeats it",
          );
          client.close();
        }
      }
      return incomingGetPacket(client, packet);
    };
  }
  if (onCleanSession) {
    const cleanIncoming = persistence.cleanIncoming?.bind(persistence);
    persistence.cleanIncoming = async (client) => {
      onCleanSession(client);
      await cleanIncoming?.(client);
    };
  }
}

interface SubscriptionPersistence {
  addSubscriptions(client: Client, subscriptions: { topic: string }[]): Promise<void>;
}

/**
 * aedes stores all of a SUBSCRIBE's filters as soon as any one of them is authorized
 * (handlers/subscribe.js passes packet.subscriptions, not the authorized one). So the filters
 * are checked again where they reach the persistence: one the gate refused (SUBACK 0x80) is
 * not stored, or a persistent session would queue, and deliver on its next CONNECT, messages
 * of topics it may not read. (A filter with U+0000 [MQTT-1.5.3-2], which PostgreSQL's text
 * cannot hold, never gets here: aedes' patched filter check refuses the whole SUBSCRIBE or
 * UNSUBSCRIBE first; refused here too, should that ever change.)
 */
function guardStoredSubscriptions(broker: Broker, gate: Gate): void {
  const persistence = (broker as unknown as { persistence: SubscriptionPersistence }).persistence;
  const addSubscriptions = persistence.addSubscriptions.bind(persistence);
  persistence.addSubscriptions = async (client, subscriptions) => {
    if (subscriptions.some((subscription) => hasNullCharacter(subscription.topic)))
      throw new ProtocolViolation("U+0000 in a topic filter [MQTT-1.5.3-2]");
    const allowed = subscriptions.filter((subscription) => mayHoldSubscription(gate, client, subscription.topic));
    return addSubscriptions(client, allowed);
  };
}

/** An error marked as a Malformed Packet: ours (ProtocolViolation) or aedes' patched topic filter check. */
function isMalformedPacket(error: Error): boolean {
  return (error as { disconnectReasonCode?: unknown }).disconnectReasonCode === DisconnectReason.malformedPacket;
}

/**
 * Keeps shared subscriptions' members in step with aedes: every connection's SUBSCRIBE and
 * UNSUBSCRIBE pass through the rewrite (SharedSubscriptions.watch), an UNSUBSCRIBE leaves the
 * group, a connection's end ends its clean memberships (a persistent session's go offline),
 * and a discarded session (clean start) leaves every group.
 */
async function followSharedMembers(broker: Broker, shared: SharedSubscriptions, log: Logger): Promise<void> {
  const handle = broker.handle.bind(broker);
  broker.handle = (conn: Parameters<Broker["handle"]>[0], req: Parameters<Broker["handle"]>[1]) => {
    const client = handle(conn, req);
    shared.watch(client);
    return client;
  };
  const unsubscribe = broker.unsubscribe.bind(broker);
  broker.unsubscribe = (topic: string, listener: Parameters<Broker["unsubscribe"]>[1], done: Parameters<Broker["unsubscribe"]>[2]) => {
    // Before the member's listener goes: no moment in which its messages would reach nobody.
    shared.redirectWhileLeaving(topic);
    unsubscribe(topic, listener, done);
  };
  broker.on("unsubscribe", (topics, client) => {
    for (const topic of topics) {
      const membership = ownSharedSubscription(client, topic);
      if (membership)
        shared
          .leave(client, membership)
          .catch((error: unknown) => log.warn({ clientId: client.id, err: error }, "could not record leaving a shared subscription"));
    }
  });
  broker.on("clientDisconnect", (client) => void shared.disconnected(client));
  const persistence = (broker as unknown as { persistence: ConnectPersistence }).persistence;
  const cleanSubscriptions = persistence.cleanSubscriptions.bind(persistence);
  persistence.cleanSubscriptions = async (client) => {
    const result = await cleanSubscriptions(client);
    await shared.sessionDiscarded(client.id).catch((error: unknown) => {
      if (!isOutage(error)) throw error;
      log.warn(
        { clientId: client.id, err: (error as Error).message },
        "a discarded session's shared subscriptions are left to the next clean CONNECT",
      );
    });
    return result;
  };
  await shared.start(broker);
}

/** What aedes' CONNECT does with the persistence for a clean session, besides restoring nothing. */
interface ConnectPersistence {
  cleanSubscriptions(client: Client): Promise<unknown>;
  cleanIncoming?(client: Client): Promise<unknown>;
  putWill(client: Client, will: unknown): Promise<unknown>;
  delWill(client: Client): Promise<unknown>;
  outgoingStream(client: Client): Readable;
}

/**
 * A device that the gate lets in during a database outage (from its credential cache) with a
 * clean session has no stored state to restore, only a previous session's to discard
 * [MQTT-3.1.2-6]; aedes' CONNECT still clears it and reads its queue, and would fail. On an
 * outage, and only while such a session is connecting, those steps are skipped: the next
 * clean CONNECT clears leftovers (aedes clears the QoS 2 state again when the session ends),
 * and the will stays in this node's memory, published by this node if the connection is lost.
 * A persistent session (clean=0) still needs its stored subscriptions: its CONNECT fails.
 */
function tolerateOutageOnCleanConnect(broker: Broker, log: Logger): void {
  const persistence = (broker as unknown as { persistence: ConnectPersistence }).persistence;
  const connectingClean = (client: Client) => (client as { connecting?: boolean }).connecting === true && client.clean;
  const skipped = (client: Client, step: string, error: unknown) =>
    log.warn(
      { clientId: client.id, err: (error as Error).message },
      `MQTT CONNECT during a database outage: ${step} skipped for a clean session`,
    );
  const tolerate =
    <A extends unknown[], R>(step: string, run: (client: Client, ...args: A) => Promise<R>) =>
    async (client: Client, ...args: A): Promise<R | undefined> => {
      try {
        return await run(client, ...args);
      } catch (error) {
        if (!connectingClean(client) || !isOutage(error)) throw error;
        skipped(client, step, error);
        return undefined;
      }
    };
  persistence.cleanSubscriptions = tolerate(
    "discarding the previous session's subscriptions",
    persistence.cleanSubscriptions.bind(persistence),
  );
  const cleanIncoming = persistence.cleanIncoming?.bind(persistence);
  if (cleanIncoming) persistence.cleanIncoming = tolerate("discarding the previous session's QoS 2 state", cleanIncoming);
  // (aedes chains delWill with .finally(): its rejection would also go unhandled.)
  persistence.delWill = tolerate("removing a previous will", persistence.delWill.bind(persistence));
  persistence.putWill = tolerate("storing the will", persistence.putWill.bind(persistence));
  const outgoingStream = persistence.outgoingStream.bind(persistence);
  persistence.outgoingStream = (client) => {
    const queue = outgoingStream(client);
    if (!connectingClean(client)) return queue;
    return Readable.from(
      (async function* () {
        try {
          yield* queue;
        } catch (error) {
          if (!isOutage(error)) throw error;
          skipped(client, "reading the queue", error);
        }
      })(),
    );
  };
}

export function closeBroker(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
