// Every MQTT connection, whatever its transport, enters the broker here: the connection
// limit is checked and the packet size guard put in front of aedes (a small limit until the
// CONNECT is accepted, the full one after).
//
// "Busy" for a node means MQTT_MAX_CONNECTIONS connections: a CONNECT beyond it is answered
// CONNACK 0x89 Server busy (MQTT 3.1.1: 0x03 Server unavailable) and closed, the existing
// connections untouched. To answer, a socket must be read, so sockets beyond the limit are
// let in up to maxSockets (a headroom, see config.ts busyHeadroom); past that they are closed
// unanswered, as the listeners' own backstop does.
import type { Client } from "aedes";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { BrokerLimits } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { Broker } from "./broker.ts";
import type { BrokerCounters } from "./limits.ts";
import { PacketSizeGuard } from "./packet-guard.ts";
import { BROKER_CLIENT_TRANSPORTS } from "@fleetwatch/contracts";
import { connectionFacts, trackConnection, type ConnectionFacts, type TransportKind } from "./connection-facts.ts";

/** The transports MQTT clients connect over: the contracts' list, so metrics and the clients view agree. */
export const TRANSPORT_KINDS = BROKER_CLIENT_TRANSPORTS;
export type { TransportKind };

/** This node's MQTT traffic since it started (metrics). */
export interface MqttTraffic {
  /** MQTT clients connected now (CONNACK accepted, connection still open), by transport. */
  connected: Record<TransportKind, number>;
  /** Connections whose CONNECT was accepted, by transport. */
  accepted: Record<TransportKind, number>;
  /** PUBLISH packets accepted from clients, by QoS (index). */
  received: [number, number, number];
  /** PUBLISH packets handed to clients' connections, by the QoS they were sent with (index). */
  sent: [number, number, number];
}

export interface MqttTransport {
  /** Hands a new connection to the broker, or closes it when this node is full. */
  handle(stream: Duplex, options?: { req?: IncomingMessage; remoteAddress?: string; kind?: TransportKind }): void;
  readonly openConnections: number;
  traffic(): MqttTraffic;
}

const perKind = (): Record<TransportKind, number> => ({ tcp: 0, tls: 0, websocket: 0 });

/** CONNACK 0x89 Server busy (MQTT 5, section 3.2.2.2); 3.1.1 has only 0x03 Server unavailable. */
const SERVER_BUSY = { returnCode: 3, reasonCode: 0x89 } as const;
type Deliver = (packet: { qos: number; topic: string }, done: () => void) => void;

export function createTransport(
  broker: Broker,
  { limits, counters, logger }: { limits: BrokerLimits; counters: BrokerCounters; logger: Logger },
): MqttTransport {
  const log = logger.child({ component: "broker" });
  // One count for TCP, TLS and WebSocket together: the limit is about this node's memory
  // and file descriptors, not about any one listener. `open`: sockets (maxSockets);
  // `admitted`: connections whose CONNECT passed the busy check, until they close
  // (maxConnections), so a burst of CONNECTs cannot all slip in before the first CONNACK.
  let open = 0;
  let admitted = 0;
  admitWithinLimit(broker, (client) => {
    // A CONNECT taking over a session connected to this node replaces that connection: the count does not grow.
    const takeover = client.id !== undefined && (broker as unknown as { clients: Record<string, Client | undefined> }).clients[client.id];
    if (admitted >= limits.maxConnections && !takeover) {
      counters.increment("connections_over_limit");
      log.warn(
        { clientId: client.id, address: (client.conn as { remoteAddress?: string }).remoteAddress, limit: limits.maxConnections },
        "MQTT CONNECT refused: server busy (MQTT_MAX_CONNECTIONS reached)",
      );
      return false;
    }
    admitted += 1;
    client.conn.once("close", () => (admitted -= 1));
    return true;
  });
  const traffic: MqttTraffic = { connected: perKind(), accepted: perKind(), received: [0, 0, 0], sent: [0, 0, 0] };
  broker.on("connackSent", (connack, client) => {
    // An MQTT 5 CONNACK carries a reasonCode instead of 3.1.1's returnCode [MQTT-3.2.2-6]; 0 accepts either way.
    const code = connack.reasonCode ?? connack.returnCode;
    if (code !== 0 || !(client.conn instanceof PacketSizeGuard)) return;
    client.conn.acceptConnect();
    const kind = connectionFacts(client).transport;
    traffic.accepted[kind] += 1;
    traffic.connected[kind] += 1;
    client.conn.once("close", () => (traffic.connected[kind] -= 1));
  });
  // Wills and $SYS-like platform events are published with a null client: not received from one.
  broker.on("publish", (packet, client) => {
    if (client) traffic.received[packet.qos] += 1;
  });
  return {
    get openConnections() {
      return open;
    },
    traffic: () => ({
      connected: { ...traffic.connected },
      accepted: { ...traffic.accepted },
      received: [...traffic.received],
      sent: [...traffic.sent],
    }),
    handle(stream, options = {}) {
      const remoteAddress = options.remoteAddress ?? (stream as { remoteAddress?: string }).remoteAddress;
      if (open >= limits.maxSockets) {
        counters.increment("connections_over_limit");
        log.warn(
          { address: remoteAddress, limit: limits.maxConnections, sockets: limits.maxSockets },
          "MQTT connection refused: MQTT_MAX_CONNECTIONS reached, and as many sockets as may wait for a busy answer",
        );
        stream.on("error", () => undefined);
        stream.destroy();
        return;
      }
      open += 1;
      const guard = new PacketSizeGuard(
        stream,
        { maxPacketBytes: limits.maxPacketBytes, maxConnectBytes: limits.maxConnectBytes },
        (reason, limit, reply) => {
          counters.increment("packet_too_large");
          log.warn({ address: remoteAddress }, `MQTT connection closed${reply ? ` with ${reply}` : ""}: ${reason} (${limit})`);
        },
        remoteAddress,
      );
      guard.once("close", () => (open -= 1));
      // Errors are reported by the broker's client error handling; an error after it gave up
      // the client must not become an unhandled 'error' event.
      guard.on("error", () => undefined);
      stream.on("error", () => undefined);
      const client = broker.handle(guard, options.req);
      const facts = trackConnection(client, options.kind ?? "tcp");
      countDeliveries(client as unknown as Record<"deliver0" | "deliverQoS", Deliver>, traffic.sent, facts);
    },
  };
}

/**
 * Runs `admit` first in aedes' authenticate step, the first step of its CONNECT, which can
 * still answer with a CONNACK reason (a preConnect refusal closes without one): a refused
 * CONNECT gets 0x89 (MQTT 5, through our aedes patch) or 0x03 (3.1.1) before any credential
 * is looked up, so a full node spends nothing on it. (A CONNECT naming a client connected
 * here goes on to authentication: let in, it replaces that connection.)
 */
function admitWithinLimit(broker: Broker, admit: (client: Client) => boolean): void {
  const authenticate = broker.authenticate.bind(broker);
  broker.authenticate = (client, username, password, done) => {
    if (admit(client)) return authenticate(client, username, password, done);
    done(Object.assign(new Error("server busy"), SERVER_BUSY), false);
  };
}

/**
 * Counts the PUBLISH packets aedes sends one client: this node's by QoS (metrics), and the
 * connection's own (the clients view), in one wrapper on the delivery path. aedes (lib/client.js) gives each client
 * its own deliver0/deliverQoS in the constructor, and subscriptions capture them later
 * (handlers/subscribe.js), so wrapping them here sees every delivery. The QoS sent is
 * worked out as aedes does: 0 through deliver0 (deliverQoS hands a QoS 0 message to it),
 * else the message's QoS, lowered to the subscription's when its filter is the topic itself.
 */
function countDeliveries(
  client: Record<"deliver0" | "deliverQoS", Deliver> & { subscriptions?: Record<string, { qos?: number }> },
  sent: number[],
  connection: ConnectionFacts,
): void {
  const deliver0 = client.deliver0;
  const deliverQoS = client.deliverQoS;
  client.deliver0 = (packet, done) => {
    sent[0]! += 1;
    connection.sent += 1;
    deliver0(packet, done);
  };
  client.deliverQoS = (packet, done) => {
    if (packet.qos > 0) {
      const subscriptionQos = client.subscriptions?.[packet.topic]?.qos ?? packet.qos;
      sent[Math.min(packet.qos, subscriptionQos)]! += 1;
      connection.sent += 1;
    }
    deliverQoS(packet, done);
  };
}
