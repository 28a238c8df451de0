// One browser's live channel. It subscribes to the broker on the browser's behalf and sends
// what arrives in batch frames, at most `maxFramesPerSecond` a second:
// - idle: a message goes out at once (next tick), so latency stays low;
// - under load: messages wait for the next frame slot and travel together;
// - a burst beyond a subscription's queue drops that subscription's oldest messages and
//   counts them, and the next frame tells the browser how many were skipped;
// - a browser that stops reading (its socket buffer grows past `maxBufferedBytes`) is
//   dropped at once, its TCP connection reset: a close frame would wait behind the megabytes
//   it does not read, and the kernel would keep them queued (FIN-WAIT-1) long after.
// Subscriptions go through the broker's emitter (mqemitter), which mqemitter-redis extends
// across nodes: a dashboard on node A sees devices connected to node B.
import type { WebSocket } from "ws";
import Value from "typebox/value";
import {
  EVENTS_TOPIC_PREFIX,
  LIVE_CLOSE,
  LiveClientMessage,
  isValidTopicFilter,
  topicMatches,
  type LiveBatch,
  type LiveEvent,
  type LiveMqttMessage,
  type LiveServerMessage,
  type MessageProperties,
} from "@fleetwatch/contracts";
import type { Broker } from "../broker/broker.ts";
import { payloadAsText } from "../lib/payload-text.ts";
import { messagePropertiesOf, type WirePublishProperties } from "../lib/message-properties.ts";
import type { FastifyBaseLogger } from "fastify";

export interface LiveLimits {
  maxFramesPerSecond: number;
  maxSubscriptions: number;
  /** Messages kept per subscription while waiting for a frame; older ones are dropped. */
  queueLimit: number;
  maxBufferedBytes: number;
}

/** What the connection may do, decided by the operator's rights (see live.routes.ts). */
export interface LivePermissions {
  canSubscribe(filter: string): boolean;
}

type Deliver = (
  packet: { topic: string; payload: Buffer | string; qos: number; retain: boolean; properties?: WirePublishProperties },
  done: () => void,
) => void;

interface Subscription {
  filter: string;
  deliver: Deliver;
  pending: LiveMqttMessage[];
  skipped: number;
}

/** Most messages in one frame (bounds a frame's size); the rest wait for the next. */
const MAX_MESSAGES_PER_FRAME = 500;

/** This node's live channels since it started (metrics); the routes and connections keep it. */
export interface LiveStats {
  open: number;
  /** Messages and events dropped from full subscription queues (the browser was told how many). */
  droppedMessages: number;
  /** Browsers dropped because they stopped reading (connection reset). */
  droppedConnections: number;
}

export class LiveConnection {
  private readonly subscriptions = new Map<string, Subscription>();
  private pendingEvents: LiveEvent[] = [];
  private skippedEvents = 0;
  private readonly frameIntervalMs: number;
  private lastFrameAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onEvent: Deliver;

  constructor(
    private readonly socket: WebSocket,
    private readonly broker: Broker,
    private readonly permissions: LivePermissions,
    private readonly limits: LiveLimits,
    private readonly log: FastifyBaseLogger,
    /** Resets the underlying TCP connection, discarding what is still queued for it (no close handshake, no lingering flush). */
    private readonly reset: () => void,
    private readonly stats: LiveStats = { open: 0, droppedMessages: 0, droppedConnections: 0 },
  ) {
    this.frameIntervalMs = 1000 / limits.maxFramesPerSecond;
    // ws delivers each message as one Buffer (its default binaryType, "nodebuffer").
    socket.on("message", (data, isBinary) => this.receive(isBinary ? null : (data as Buffer).toString("utf8")));
    socket.on("close", () => this.dispose());
    socket.on("error", () => this.dispose());

    this.onEvent = (packet, done) => {
      done();
      if (this.pendingEvents.length >= limits.queueLimit) {
        this.pendingEvents.shift();
        this.skippedEvents++;
        this.stats.droppedMessages++;
      }
      const kind = packet.topic.slice(EVENTS_TOPIC_PREFIX.length);
      let data: unknown;
      try {
        data = JSON.parse(packet.payload.toString());
      } catch {
        return; // events are published by the server itself; a bad one is a bug, not a reason to stop
      }
      this.pendingEvents.push({ kind, data });
      this.scheduleFlush();
    };
    broker.subscribe(`${EVENTS_TOPIC_PREFIX}#`, this.onEvent, () => {});
    this.send({ type: "hello", maxFramesPerSecond: limits.maxFramesPerSecond, maxSubscriptions: limits.maxSubscriptions });
  }

  private receive(text: string | null): void {
    let message: unknown;
    try {
      message = text === null ? undefined : JSON.parse(text);
    } catch {
      message = undefined;
    }
    if (!Value.Check(LiveClientMessage, message)) {
      this.send({
        type: "error",
        code: "bad-message",
        message: 'Expected JSON {"type":"subscribe","id","filter"} or {"type":"unsubscribe","id"}',
      });
      return;
    }
    if (message.type === "subscribe") this.subscribe(message.id, message.filter);
    else this.unsubscribe(message.id, true);
  }

  private subscribe(id: string, filter: string): void {
    if (!isValidTopicFilter(filter)) {
      return this.send({ type: "error", code: "bad-filter", id, message: `"${filter}" is not a valid MQTT topic filter` });
    }
    if (!this.permissions.canSubscribe(filter)) {
      return this.send({ type: "error", code: "forbidden", id, message: `You may not subscribe to "${filter}"` });
    }
    this.unsubscribe(id, false); // re-subscribing an id replaces its filter
    if (this.subscriptions.size >= this.limits.maxSubscriptions) {
      return this.send({
        type: "error",
        code: "too-many-subscriptions",
        id,
        message: `At most ${this.limits.maxSubscriptions} subscriptions per connection`,
      });
    }
    const subscription: Subscription = { filter, pending: [], skipped: 0, deliver: () => {} };
    subscription.deliver = (packet, done) => {
      done();
      // The emitter's wildcards also match $-topics; MQTT's do not [MQTT-4.7.2-1].
      if (!topicMatches(filter, packet.topic)) return;
      if (subscription.pending.length >= this.limits.queueLimit) {
        subscription.pending.shift();
        subscription.skipped++;
        this.stats.droppedMessages++;
      }
      subscription.pending.push({
        subscription: id,
        topic: packet.topic,
        ...payloadAsText(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
        ...withProperties(packet),
        at: Date.now(),
      });
      this.scheduleFlush();
    };
    this.subscriptions.set(id, subscription);
    this.broker.subscribe(filter, subscription.deliver, () => this.send({ type: "subscribed", id, filter }));
  }

  private unsubscribe(id: string, reply: boolean): void {
    const subscription = this.subscriptions.get(id);
    if (!subscription) {
      if (reply) this.send({ type: "error", code: "unknown-subscription", id, message: `No subscription "${id}"` });
      return;
    }
    this.subscriptions.delete(id);
    this.broker.unsubscribe(subscription.filter, subscription.deliver, () => {});
    if (reply) this.send({ type: "unsubscribed", id });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    const wait = Math.max(0, this.lastFrameAt + this.frameIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.closed) return;
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      this.log.warn({ bufferedBytes: this.socket.bufferedAmount }, "live channel: browser is not reading; dropping it (connection reset)");
      this.stats.droppedConnections++;
      this.dispose();
      this.reset();
      return;
    }
    const batch: LiveBatch = { type: "batch", messages: [], events: this.pendingEvents, skipped: {} };
    this.pendingEvents = [];
    if (this.skippedEvents > 0) batch.skipped["$events"] = this.skippedEvents;
    this.skippedEvents = 0;
    let room = MAX_MESSAGES_PER_FRAME;
    let more = false;
    for (const [id, subscription] of this.subscriptions) {
      const taken = subscription.pending.splice(0, room);
      room -= taken.length;
      batch.messages.push(...taken);
      if (subscription.skipped > 0) batch.skipped[id] = subscription.skipped;
      subscription.skipped = 0;
      if (subscription.pending.length > 0) more = true;
    }
    this.lastFrameAt = Date.now();
    if (batch.messages.length > 0 || batch.events.length > 0 || Object.keys(batch.skipped).length > 0) this.send(batch);
    if (more) this.scheduleFlush();
  }

  private send(message: LiveServerMessage): void {
    if (!this.closed && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** The operator's credential was revoked or their rights changed: close with LIVE_CLOSE.revoked. */
  revoke(): void {
    if (this.closed) return;
    this.log.info("live channel: the operator's credentials changed; closing it");
    this.socket.close(LIVE_CLOSE.revoked, "credentials changed");
    this.dispose();
  }

  /** Number of subscriptions, for diagnostics. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    for (const id of [...this.subscriptions.keys()]) this.unsubscribe(id, false);
    this.broker.unsubscribe(`${EVENTS_TOPIC_PREFIX}#`, this.onEvent, () => {});
  }
}

function withProperties(packet: { properties?: WirePublishProperties }): { properties?: MessageProperties } {
  const properties = messagePropertiesOf(packet.properties);
  return properties ? { properties } : {};
}
