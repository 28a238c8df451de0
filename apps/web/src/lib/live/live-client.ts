// The dashboard's one WebSocket to /api/live (contract: packages/contracts/src/live.ts).
// Every page that wants live data registers a listener here instead of opening a socket:
// - one server subscription per distinct topic filter, shared by all its listeners;
// - the socket opens with the first listener and closes a little after the last one goes,
//   so moving between pages does not reconnect;
// - a dropped socket (server restart, network, slow-consumer close) reconnects with
//   exponential backoff and jitter, and every subscription is sent again.
import {
  LIVE_CLOSE,
  LIVE_PATH,
  type LiveClientMessage,
  type LiveMqttMessage,
  type LiveServerMessage,
  type PlatformEvent,
} from "@fleetwatch/contracts";
import { env } from "../../config/env.ts";

export type LiveStatus = "idle" | "connecting" | "open" | "reconnecting";

export interface MessageBatch {
  messages: LiveMqttMessage[];
  /** Messages of this filter the server dropped since the previous batch (a burst outran the frame rate). */
  skipped: number;
}
export type MessageListener = (batch: MessageBatch) => void;
export type EventListener = (events: PlatformEvent[]) => void;
/** The server refused a filter (bad, forbidden, too many); the listener gets no messages. */
export type ErrorListener = (message: string) => void;

interface Subscription {
  id: string;
  filter: string;
  listeners: Set<{ onBatch: MessageListener; onError?: ErrorListener | undefined }>;
}

const backoff = { initialMs: 500, maxMs: 15_000 };
/** How long the socket stays open after the last listener leaves. */
const idleCloseMs = 5_000;

export function liveUrl(): string {
  const base = env.apiUrl ? new URL(env.apiUrl) : new URL(window.location.href);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  base.pathname = LIVE_PATH;
  base.search = "";
  base.hash = "";
  return base.href;
}

/** The part of the WebSocket API the client uses (the browser's, or `ws` in tests). */
export interface LiveSocket {
  readonly readyState: number;
  readonly OPEN: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveClientOptions {
  url?: () => string;
  createSocket?: (url: string) => LiveSocket;
}

export class LiveClient {
  private socket: LiveSocket | undefined;
  private status: LiveStatus = "idle";
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();
  private readonly subscriptions = new Map<string, Subscription>(); // by filter
  private readonly byId = new Map<string, Subscription>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly revokedListeners = new Set<() => void>();
  private readonly resyncListeners = new Set<() => void>();
  private nextId = 1;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly url: () => string;
  private readonly createSocket: (url: string) => LiveSocket;

  constructor(options: LiveClientOptions = {}) {
    this.url = options.url ?? liveUrl;
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as LiveSocket);
  }

  get currentStatus(): LiveStatus {
    return this.status;
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Receive the messages matching an MQTT topic filter (`+` and `#` allowed). */
  subscribe(filter: string, onBatch: MessageListener, onError?: ErrorListener): () => void {
    let subscription = this.subscriptions.get(filter);
    if (!subscription) {
      subscription = { id: `s${this.nextId++}`, filter, listeners: new Set() };
      this.subscriptions.set(filter, subscription);
      this.byId.set(subscription.id, subscription);
      this.send({ type: "subscribe", id: subscription.id, filter });
    }
    const entry = { onBatch, onError };
    subscription.listeners.add(entry);
    this.retain();
    const owned = subscription;
    return () => {
      owned.listeners.delete(entry);
      if (owned.listeners.size === 0) {
        this.subscriptions.delete(owned.filter);
        this.byId.delete(owned.id);
        this.send({ type: "unsubscribe", id: owned.id });
      }
      this.release();
    };
  }

  /**
   * The server closed the channel because the operator's credentials changed (signed out
   * elsewhere, token revoked, role changed). The session owner re-checks who is signed in.
   */
  onRevoked(listener: () => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /**
   * Events may have been missed: the channel (re)opened, so whatever happened before it did
   * was not seen, or the server dropped events in a burst. Pages refetch what they show.
   */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Receive platform events (presence changes, alerts) from every server node. */
  onEvents(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    this.retain();
    return () => {
      this.eventListeners.delete(listener);
      this.release();
    };
  }

  private get listenerCount(): number {
    return this.subscriptions.size + this.eventListeners.size;
  }

  private retain(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.socket && this.reconnectTimer === undefined) this.connect();
  }

  private release(): void {
    if (this.listenerCount > 0 || this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.listenerCount === 0) this.close();
    }, idleCloseMs);
  }

  private setStatus(status: LiveStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = this.createSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setStatus("open");
      for (const subscription of this.subscriptions.values())
        this.send({ type: "subscribe", id: subscription.id, filter: subscription.filter });
      this.resync();
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.receive(JSON.parse(event.data) as LiveServerMessage);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return; // closed on purpose
      this.socket = undefined;
      if (event.code === LIVE_CLOSE.revoked) for (const listener of this.revokedListeners) listener();
      if (this.listenerCount === 0) return this.setStatus("idle");
      // Full jitter: many dashboards reconnecting after a server restart spread out.
      const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** this.attempt);
      this.attempt++;
      this.setStatus("reconnecting");
      this.reconnectTimer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
    };
  }

  private resync(): void {
    for (const listener of this.resyncListeners) listener();
  }

  private close(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    this.attempt = 0;
    socket?.close(1000, "no listeners");
    this.setStatus("idle");
  }

  private send(message: LiveClientMessage): void {
    // Not open yet: onopen sends every current subscription.
    if (this.socket && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private receive(message: LiveServerMessage): void {
    switch (message.type) {
      case "batch": {
        if (message.events.length > 0) {
          // Events are the server's own PlatformEvent JSON (broker/platform-events.ts).
          const events = message.events.map((event) => event.data as PlatformEvent);
          for (const listener of this.eventListeners) listener(events);
        }
        if (message.skipped["$events"]) this.resync();
        const grouped = new Map<Subscription, LiveMqttMessage[]>();
        for (const mqtt of message.messages) {
          const subscription = this.byId.get(mqtt.subscription);
          if (!subscription) continue; // unsubscribed while the frame was in flight
          const list = grouped.get(subscription);
          if (list) list.push(mqtt);
          else grouped.set(subscription, [mqtt]);
        }
        // A frame may report skipped messages of a filter without carrying any of them.
        for (const id of Object.keys(message.skipped)) {
          const subscription = this.byId.get(id);
          if (subscription && !grouped.has(subscription)) grouped.set(subscription, []);
        }
        for (const [subscription, messages] of grouped) {
          const batch = { messages, skipped: message.skipped[subscription.id] ?? 0 };
          for (const listener of subscription.listeners) listener.onBatch(batch);
        }
        return;
      }
      case "error": {
        const subscription = message.id === undefined ? undefined : this.byId.get(message.id);
        if (subscription) for (const listener of subscription.listeners) listener.onError?.(message.message);
        return;
      }
      default:
        return; // hello, subscribed, unsubscribed: nothing to do
    }
  }
}

/** The dashboard's shared client. */
export const liveClient = new LiveClient();
