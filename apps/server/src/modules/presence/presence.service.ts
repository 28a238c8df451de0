// Device presence, from the broker's connection events.
//
// - A device is online from a successful CONNECT (aedes' 'client' event, after authentication).
// - It goes offline when the connection ends: `disconnected` after a DISCONNECT (no will is
//   published [MQTT-3.1.2-10]); `connection lost` or `keepalive timeout` for an unexpected
//   loss (the will is published [MQTT-3.1.2-8]); `server shutdown` when this node stops.
// - A connection replaced by a new CONNECT with the same client id [MQTT-3.1.4-2] does not take
//   the device offline: on this node the replacement is registered in the same tick, on another
//   node it has already recorded its own connection id, which the old one no longer matches.
//
// Damping: an offline transition is written at once (devices.online is exact), but its
// presence event is recorded only once the device has stayed offline for ALERT_OFFLINE_GRACE_MS,
// except after a keepalive timeout: the broker noticed only after 1.5 × keepalive of silence
// [MQTT-3.1.2-24], which is damping enough, so the device shows offline within that bound.
// A reconnect within that time is a coalesced blip: no offline event, no online event, no
// offline alert (device_presence.flaps counts them). Unexpected losses that outlast the grace
// period raise an offline alert (alerts service); reconnecting resolves it. An MQTT 5 device
// that left with a delayed will (Will Delay Interval) stays pending until the will is due, if
// that is later: the device said it may come back within that time, and a reconnect then
// publishes no will [MQTT-3.1.3-9], so it raises no alert either. The hold is kept in
// PostgreSQL (device_presence.offline_hold_until), so any node's sweep, after a restart
// too, confirms the event when it is due.
//
// Per-node state: the devices connected to this node (with their connection ids) and the set
// of those seen since the last flush. Both describe live sockets of this process only; they
// die with it, and a crashed node's devices are released by the others (heartbeat). Changes
// that could not be written (the database was down, while devices kept connecting from the
// gate's credential cache) are kept per device and written at the next flush that succeeds.
import type { PresenceHistory, PresenceReason } from "@fleetwatch/contracts";
import { randomUUID } from "node:crypto";
import type { Client as BrokerClient } from "aedes";
import type { Broker } from "../../broker/broker.ts";
import type { PlatformEvents } from "../../broker/platform-events.ts";
import type { Logger } from "../../logger.ts";
import { ApiProblem } from "../../http/errors.ts";
import type { PresenceRepository } from "./presence.repository.ts";
import { BackgroundWork, MAX_TIMEOUT_MS } from "../../lib/background-work.ts";
import { connectionFacts } from "../../broker/connection-facts.ts";

export interface PresenceOptions {
  offlineGraceMs: number;
  flushMs: number;
  sweepMs: number;
  /** Called with devices whose presence changed, so that offline alerts follow at once. */
  onChange?: (deviceIds: string[]) => Promise<void>;
}

export class PresenceService {
  readonly #connected = new Map<string, { client: BrokerClient; connectionId: string }>();
  readonly #seen = new Set<string>();
  readonly #keepaliveTimeouts = new WeakSet<object>();
  /** Connections whose going online could not be written, by device. */
  readonly #unwrittenOnline = new Map<string, BrokerClient>();
  /** Connections whose going offline could not be written, by device. */
  readonly #unwrittenOffline = new Map<
    string,
    { connectionId: string; reason: PresenceReason; unexpected: boolean; holdSeconds: number }
  >();
  #broker: Broker | undefined;
  #events: PlatformEvents | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #sweeping: Promise<void> = Promise.resolve();
  /** Presence changes of one device are applied in the order the broker reported them. */
  readonly #background = new BackgroundWork((error, deviceId) =>
    this.logger.warn({ err: error, deviceId }, "could not record a presence change"),
  );

  constructor(
    private readonly repository: PresenceRepository,
    private readonly logger: Logger,
    private readonly options: PresenceOptions,
  ) {}

  /** A node that misses heartbeats for this long is considered dead and its devices offline. */
  get nodeStaleMs(): number {
    return Math.max(5 * this.options.flushMs, 1000);
  }

  /** Follows the broker's connections from now on, and announces presence changes as platform events. */
  async start(broker: Broker, events: PlatformEvents): Promise<void> {
    this.#broker = broker;
    this.#events = events;
    // Registered before any device connects here, or another node's sweep would see this
    // node's devices as held by an unknown node.
    await this.repository.heartbeat(broker.id);
    broker.on("client", (client) => this.#onConnect(client));
    broker.on("clientDisconnect", (client) => this.#onDisconnect(client));
    broker.on("keepaliveTimeout", (client) => this.#keepaliveTimeouts.add(client));
    const seen = (client: { id?: string } | null) => {
      if (client?.id && this.#connected.has(client.id)) this.#seen.add(client.id);
    };
    broker.on("publish", (_packet, client) => seen(client));
    broker.on("ping", (_packet, client) => seen(client));
    broker.on("ack", (_packet, client) => seen(client));
    broker.on("subscribe", (_subscriptions, client) => seen(client));
    this.#background.every(this.options.flushMs, () => this.flush());
    this.#background.every(this.options.sweepMs, () => this.sweep());
  }

  /** Writes last-seen times and this node's heartbeat, and the presence changes that could not be written before. */
  flush(): Promise<void> {
    this.#retryUnwritten();
    this.#flushing = this.#flushing.then(async () => {
      const ids = [...this.#seen];
      this.#seen.clear();
      try {
        await this.repository.touch(ids);
        const broker = this.#broker;
        if (broker && !this.#background.stopped && (await this.repository.heartbeat(broker.id))) {
          // Others declared this node dead (a long pause) and took its devices offline:
          // re-assert the connections it still holds.
          this.logger.warn("this node's heartbeat had lapsed; re-asserting its devices' presence");
          for (const { client } of this.#connected.values()) this.#onConnect(client);
        }
      } catch (error) {
        for (const id of ids) this.#seen.add(id);
        this.logger.warn({ err: error }, "could not write last-seen times");
      }
    });
    return this.#flushing;
  }

  /** Confirms offline events past their grace period and releases the devices of dead nodes. */
  sweep(): Promise<void> {
    this.#sweeping = this.#sweeping.then(async () => {
      try {
        const released = await this.repository.releaseDeadNodes(this.nodeStaleMs);
        if (released.length > 0)
          this.logger.warn({ devices: released.length }, "released the devices of a server node that stopped sending heartbeats");
        const confirmed = await this.repository.confirmOffline(this.options.offlineGraceMs);
        for (const { event } of confirmed) this.#events?.publish({ kind: "presence", ...event });
        const unexpected = confirmed.filter((c) => c.unexpected).map((c) => c.event.deviceId);
        if (unexpected.length > 0) await this.options.onChange?.(unexpected);
      } catch (error) {
        this.logger.warn({ err: error }, "presence sweep failed");
      }
    });
    return this.#sweeping;
  }

  /**
   * Whether a device is online, and its latest presence events (newest first); with a range,
   * the latest events inside it and the last one before it (the state the range starts in).
   */
  async history(deviceId: string, limit: number, range?: { from: string; to?: string | undefined }): Promise<PresenceHistory> {
    const bounds = range && { from: new Date(range.from), to: range.to === undefined ? new Date() : new Date(range.to) };
    if (bounds && bounds.from > bounds.to) throw new ApiProblem(400, `from (${range.from}) is after to (${bounds.to.toISOString()})`);
    const history = await this.repository.history(deviceId, limit, bounds);
    if (!history) throw new ApiProblem(404, `no device "${deviceId}"`);
    return { deviceId, online: history.online, items: history.events, ...(bounds ? { before: history.before ?? null } : {}) };
  }

  /** Waits for pending presence writes, then writes last-seen times a final time. */
  async stop(): Promise<void> {
    this.#background.stop();
    // Disconnects reported while the broker closed are queued behind a setImmediate.
    await new Promise((resolve) => setImmediate(resolve));
    await this.#background.drained();
    await this.flush();
    // (The flush queued any presence change still unwritten.)
    await this.#background.drained();
    await this.#sweeping;
    if (this.#broker) await this.repository.removeNode(this.#broker.id).catch(() => undefined);
  }

  /** Queued behind each device's other presence work: a newer change written meanwhile wins. */
  #retryUnwritten(): void {
    for (const [deviceId, client] of this.#unwrittenOnline) {
      this.#unwrittenOnline.delete(deviceId);
      if (!client.closed) this.#onConnect(client);
    }
    for (const [deviceId, change] of this.#unwrittenOffline) {
      this.#unwrittenOffline.delete(deviceId);
      this.#background.serialize(deviceId, async () => {
        // Back online here already (its new connection supersedes the old one): nothing to undo.
        if (this.#connected.has(deviceId)) return;
        try {
          if (await this.repository.disconnected(deviceId, change.connectionId, change.reason, change.unexpected, change.holdSeconds))
            this.#scheduleSweep(change.holdSeconds);
        } catch (error) {
          this.#unwrittenOffline.set(deviceId, change);
          throw error;
        }
      });
    }
  }

  #onConnect(client: BrokerClient): void {
    const broker = this.#broker;
    if (!broker || !client.id) return;
    const connectionId = randomUUID();
    this.#background.serialize(client.id, async () => {
      let result: Awaited<ReturnType<PresenceRepository["connected"]>>;
      try {
        result = await this.repository.connected(client.id, connectionId, broker.id);
      } catch (error) {
        if (!client.closed) this.#unwrittenOnline.set(client.id, client);
        throw error;
      }
      if (!result.device) return;
      if (client.closed) {
        // Gone before its presence was written: the disconnect saw no connection to end.
        const holdSeconds = connectionFacts(client).willDelaySeconds;
        await this.repository.disconnected(client.id, connectionId, this.#reason(client), true, holdSeconds);
        this.#scheduleSweep(holdSeconds);
        return;
      }
      this.#connected.set(client.id, { client, connectionId });
      if (result.event) this.#events?.publish({ kind: "presence", ...result.event });
      await this.options.onChange?.([client.id]);
    });
  }

  #onDisconnect(client: BrokerClient): void {
    const broker = this.#broker;
    if (!broker || !client.id) return;
    // aedes registers a replacing connection right after closing the old one, in the same
    // tick [MQTT-3.1.4-2]; look once the tick is over.
    setImmediate(() => {
      const current = (broker as unknown as { clients: Record<string, BrokerClient | undefined> }).clients[client.id];
      if (current && current !== client) return;
      // Its going online was never written: nothing of it to undo (an older connection still
      // recorded online is settled by its own unwritten offline change).
      if (this.#unwrittenOnline.get(client.id) === client) this.#unwrittenOnline.delete(client.id);
      this.#background.serialize(client.id, async () => {
        const entry = this.#connected.get(client.id);
        if (!entry || entry.client !== client) return;
        this.#connected.delete(client.id);
        const reason = this.#reason(client);
        const unexpected = reason === "connection lost" || reason === "keepalive timeout";
        const holdSeconds = connectionFacts(client).willDelaySeconds;
        let wentOffline: boolean;
        try {
          wentOffline = await this.repository.disconnected(client.id, entry.connectionId, reason, unexpected, holdSeconds);
        } catch (error) {
          this.#unwrittenOffline.set(client.id, { connectionId: entry.connectionId, reason, unexpected, holdSeconds });
          throw error;
        }
        if (wentOffline) this.#scheduleSweep(holdSeconds, reason === "keepalive timeout" ? 0 : this.options.offlineGraceMs);
      });
    });
  }

  #reason(client: BrokerClient): PresenceReason {
    if (this.#broker?.closed) return "server shutdown";
    if (this.#keepaliveTimeouts.has(client)) return "keepalive timeout";
    // aedes sets _disconnected when the client sent DISCONNECT [MQTT-3.14.4-3]; it has no
    // public flag or event for it.
    if ((client as unknown as { _disconnected?: boolean })._disconnected) return "disconnected";
    return "connection lost";
  }

  /**
   * Confirms the offline event as soon as it is due, not at the next sweep: once its grace
   * period has passed and the device's will delay (`holdSeconds`) has run out, whichever is later.
   */
  #scheduleSweep(holdSeconds: number, graceMs = this.options.offlineGraceMs): void {
    const delayMs = Math.max(graceMs, holdSeconds * 1000) + 20;
    // Beyond setTimeout's range (a will delay of weeks): the periodic sweep confirms it.
    if (delayMs > MAX_TIMEOUT_MS) return;
    this.#background.after(delayMs, () => this.sweep());
  }
}
