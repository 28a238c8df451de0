// The dashboard's live channel: a WebSocket at /api/live. The browser subscribes to MQTT
// topic filters and receives what the broker routes, batched into frames at a bounded rate;
// the server also pushes platform events (presence, alerts).
import { Type, type Static } from "typebox";
import { MessageProperties } from "./message-properties.ts";

export const LIVE_PATH = "/api/live";

/** Client → server. `id` is chosen by the client and names the subscription in replies. */
export const LiveSubscribe = Type.Object({
  type: Type.Literal("subscribe"),
  id: Type.String({ minLength: 1, maxLength: 64 }),
  filter: Type.String({ minLength: 1, maxLength: 1024, description: "MQTT topic filter; + and # allowed" }),
});
export const LiveUnsubscribe = Type.Object({
  type: Type.Literal("unsubscribe"),
  id: Type.String({ minLength: 1, maxLength: 64 }),
});
export const LiveClientMessage = Type.Union([LiveSubscribe, LiveUnsubscribe], {
  description:
    "Browser → server, one JSON text frame each: subscribe to an MQTT topic filter under an id of the browser's choosing (re-subscribing an id replaces its filter), or unsubscribe that id",
});
export type LiveClientMessage = Static<typeof LiveClientMessage>;

/** One MQTT message as the live channel carries it. */
export const LiveMqttMessage = Type.Object({
  subscription: Type.String(),
  topic: Type.String(),
  /** UTF-8 text when the payload is valid UTF-8, else base64 (see `encoding`). */
  payload: Type.String(),
  encoding: Type.Union([Type.Literal("utf8"), Type.Literal("base64")]),
  qos: Type.Integer({ minimum: 0, maximum: 2 }),
  retain: Type.Boolean(),
  /** MQTT 5 properties of the message, when it has any. */
  properties: Type.Optional(MessageProperties),
  /** When this server handed the message to the channel (epoch ms). */
  at: Type.Number(),
});
export type LiveMqttMessage = Static<typeof LiveMqttMessage>;

/** A platform event (presence change, alert) as published on `$fleetwatch/events/<kind>`. */
export const LiveEvent = Type.Object({
  kind: Type.String(),
  data: Type.Unknown(),
});
export type LiveEvent = Static<typeof LiveEvent>;

/**
 * Server → client. Messages and events arrive in `batch` frames, at most a configured number
 * per second per connection; `skipped` counts, per subscription, the messages dropped since
 * the previous frame because a burst outran that rate.
 */
export const LiveBatch = Type.Object({
  type: Type.Literal("batch"),
  messages: Type.Array(LiveMqttMessage),
  events: Type.Array(LiveEvent),
  skipped: Type.Record(Type.String(), Type.Integer({ minimum: 1 })),
});
export const LiveSubscribed = Type.Object({ type: Type.Literal("subscribed"), id: Type.String(), filter: Type.String() });
export const LiveUnsubscribed = Type.Object({ type: Type.Literal("unsubscribed"), id: Type.String() });
export const LiveErrorCode = Type.Union([
  Type.Literal("bad-message"),
  Type.Literal("bad-filter"),
  Type.Literal("forbidden"),
  Type.Literal("too-many-subscriptions"),
  Type.Literal("unknown-subscription"),
]);
export const LiveError = Type.Object({
  type: Type.Literal("error"),
  code: LiveErrorCode,
  message: Type.String(),
  /** The subscription the error is about, when there is one. */
  id: Type.Optional(Type.String()),
});
export const LiveHello = Type.Object({
  type: Type.Literal("hello"),
  /** The most frames per second this connection will receive. */
  maxFramesPerSecond: Type.Integer(),
  maxSubscriptions: Type.Integer(),
});
export const LiveServerMessage = Type.Union([LiveHello, LiveBatch, LiveSubscribed, LiveUnsubscribed, LiveError], {
  description:
    "Server → browser, one JSON text frame each: hello (the connection's limits) first; subscribed/unsubscribed to confirm; batch frames carrying MQTT messages and platform events at a bounded rate, with per-subscription counts of messages dropped since the last frame; error for a bad message, filter or a refused subscription. Close codes: 4001 credentials revoked or changed (sign in again), 1001 server shutting down (reconnect)",
});
export type LiveServerMessage = Static<typeof LiveServerMessage>;
export type LiveBatch = Static<typeof LiveBatch>;

/** WebSocket close codes the server uses (4000–4999 are for applications). */
export const LIVE_CLOSE = {
  // A browser that stops reading gets no close code: its connection is reset (close code 1006
  // on its side), since a close frame would wait behind everything it did not read.
  /** The session ended, the token was revoked, or the operator's role changed: sign in again. */
  revoked: 4001,
  /** The server is shutting down; reconnect later. */
  goingAway: 1001,
} as const;

/** Platform events travel through the broker under this prefix (invisible to `#` subscribers [MQTT-4.7.2-1]). */
export const EVENTS_TOPIC_PREFIX = "$fleetwatch/events/";
