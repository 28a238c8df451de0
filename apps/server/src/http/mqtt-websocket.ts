// MQTT over WebSocket at ws://HOST:PORT/mqtt, on the same HTTP server as the API, so that
// browsers and clients behind HTTP-only proxies reach the same broker.
import type { FastifyInstance } from "fastify";
import { createWebSocketStream } from "ws";
import type { MqttTransport } from "../broker/transport.ts";

// ws' maxPayload (set where @fastify/websocket is registered) bounds one WebSocket frame;
// an MQTT packet may span frames, so the transport's packet size guard applies here too.
export async function mqttOverWebSocket(app: FastifyInstance, { transport }: { transport: MqttTransport }) {
  app.get("/mqtt", { websocket: true, schema: { hide: true } }, (socket, request) => {
    const stream = createWebSocketStream(socket);
    // A socket error after the client is gone is expected (abrupt disconnects); the
    // broker logs client errors itself.
    stream.on("error", () => stream.destroy());
    transport.handle(stream, { req: request.raw, remoteAddress: request.ip, kind: "websocket" });
  });
}
