// MQTT over WebSocket at ws://HOST:PORT/mqtt, on the same HTTP server as the API, so that
// browsers and clients behind HTTP-only proxies reach the same broker.
import type { FastifyInstance } from "fastify";
import { createWebSocketStream } from "ws";
import type { Broker } from "../broker/broker.ts";

export async function mqttOverWebSocket(app: FastifyInstance, { broker }: { broker: Broker }) {
  app.get("/mqtt", { websocket: true, schema: { hide: true } }, (socket, request) => {
    const stream = createWebSocketStream(socket);
    // A socket error after the client is gone is expected (abrupt disconnects); the
    // broker logs client errors itself.
    stream.on("error", () => stream.destroy());
    broker.handle(stream, request.raw);
  });
}
