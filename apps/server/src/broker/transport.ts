// Every MQTT connection, whatever its transport, enters the broker here: the connection
// limit is checked and the packet size guard put in front of aedes (a small limit until the
// CONNECT is accepted, the full one after).
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
type Deliver = (packet: { qos: number; topic: string }, done: () => void) => void;

export function createTransport(
  broker: Broker,
  { limits, counters, logger }: { limits: BrokerLimits; counters: BrokerCounters; logger: Logger },
): MqttTransport {
  const log = logger.child({ component: "broker" });
  // One count for TCP, TLS and WebSocket together: the limit is about this node's memory
  // and file descriptors, not about any one listener.
  let open = 0;
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
      if (open >= limits.maxConnections) {
        counters.increment("connections_over_limit");
        log.warn({ address: remoteAddress, limit: limits.maxConnections }, "MQTT connection refused: MQTT_MAX_CONNECTIONS reached");
        stream.on("error", () => undefined);
        stream.destroy();
        return;
      }
      open += 1;
      const guard = new PacketSizeGuard(
        stream,
        { maxPacketBytes: limits.maxPacketBytes, maxConnectBytes: limits.maxConnectBytes },
        (reason, limit) => {
          counters.increment("packet_too_large");
          log.warn({ address: remoteAddress }, `MQTT connection closed: ${reason} (${limit})`);
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
