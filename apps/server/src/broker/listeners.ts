// MQTT transports: plain TCP on MQTT_PORT and, when a certificate is configured, TLS on
// MQTTS_PORT. MQTT over WebSocket shares the HTTP server (see http/mqtt-websocket.ts).
import { createServer, type Server } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { readFile } from "node:fs/promises";
import type { Config } from "../config.ts";
import { listen, stopListening } from "../listen.ts";
import type { MqttTransport } from "./transport.ts";

export interface MqttListeners {
  port: number;
  tlsPort?: number;
  /** Stops accepting new connections; connected clients are closed by the broker. */
  stop(): Promise<void>;
}

export async function startMqttListeners(transport: MqttTransport, config: Config): Promise<MqttListeners> {
  // noDelay: without it Nagle's algorithm holds small packets (PUBACK, CONNACK) back,
  // which on this machine raised QoS 1 round trips from under 1 ms to ~44 ms.
  // TCP keepalive probes reclaim sockets of clients that chose MQTT keepalive 0 and vanished.
  const tcp = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 }, (socket) => transport.handle(socket));
  // The kernel-level backstop; the transport's own count covers all transports together.
  tcp.maxConnections = config.broker.maxSockets;
  const servers: Server[] = [tcp];
  const stop = () => Promise.all(servers.map(stopListening)).then(() => undefined);
  try {
    const port = await listen(
      tcp,
      config.mqtt.port,
      config.host,
      "MQTT_PORT",
      config.mqtt.port === 1883 ? " (often by a Mosquitto already running)" : "",
    );
    const tlsConfig = config.mqtt.tls;
    if (!tlsConfig) return { port, stop };

    const [cert, key] = await Promise.all([readPem(tlsConfig.certFile, "MQTT_TLS_CERT"), readPem(tlsConfig.keyFile, "MQTT_TLS_KEY")]);
    const tls = createTlsServer({ cert, key }, (socket) => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      transport.handle(socket, { remoteAddress: socket.remoteAddress, kind: "tls" });
    });
    tls.maxConnections = config.broker.maxSockets;
    servers.push(tls);
    const tlsPort = await listen(tls, tlsConfig.port, config.host, "MQTTS_PORT");
    return { port, tlsPort, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function readPem(file: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new Error(`${variable} names ${file}, which cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
}
