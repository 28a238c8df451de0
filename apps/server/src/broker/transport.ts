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

export interface MqttTransport {
  /** Hands a new connection to the broker, or closes it when this node is full. */
  handle(stream: Duplex, options?: { req?: IncomingMessage; remoteAddress?: string }): void;
  readonly openConnections: number;
}

export function createTransport(
  broker: Broker,
  { limits, counters, logger }: { limits: BrokerLimits; counters: BrokerCounters; logger: Logger },
): MqttTransport {
  const log = logger.child({ component: "broker" });
  // One count for TCP, TLS and WebSocket together: the limit is about this node's memory
  // and file descriptors, not about any one listener.
  let open = 0;
  broker.on("connackSent", (connack, client) => {
    if (connack.returnCode === 0 && client.conn instanceof PacketSizeGuard) client.conn.acceptConnect();
  });
  return {
    get openConnections() {
      return open;
    },
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
      broker.handle(guard, options.req);
    },
  };
}
