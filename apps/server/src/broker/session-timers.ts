// The MQTT 5 session's two timers, kept in PostgreSQL: the Session Expiry Interval and the
// Will Delay Interval. aedes 2 times both in the memory of the node the client left, which a
// restart forgets (the session then stays until the client returns with Clean Start, and the
// will is never published) and which another node cannot see. Here:
// - when a connection ends, the session's end time (scheduleSessionExpiry) and a delayed
//   will (delayWill, which aedes hands over instead of arming its own timer: our patch's
//   `delayWill` option) are written to PostgreSQL;
// - when the client connects again on any node, both are deleted (resumeSession): the
//   session continues and the will is not published [MQTT-3.1.3-9];
// - a sweep on every node (and at every start) ends the sessions whose time has come and
//   publishes the wills that are due, or whose session just ended, whichever comes first
//   [MQTT-3.1.2-8].
// A will is published at least once: a sweep claims it for a while (a lease, SKIP LOCKED, so
// one node at a time) and deletes it only once published. A publish that fails (the database
// refuses the retained write, say) gives the claim back, so the next sweep tries again, and the
// claims of a node that dies run out, after which any node claims them. So a will may, rarely,
// be published twice: its node died after publishing it and before deleting it. For an offline
// notice that is the better side: a second "gone" changes nothing a subscriber knows, and a
// lost one leaves a dead device looking alive for good. A will the broker refuses (see below)
// would be refused again: it is deleted, and the refusal logged.
// A swept will is published through the broker much as aedes publishes the will of a client
// whose node died (authorizePublish with no client, then publish), but checked with the
// rights of the client that left (its principal, stored with the will: hooks.ts); it goes
// through the publish pipeline (ingest, retained store) and, by the Redis bridge, to every node.
import type { Client, PublishPacket } from "aedes";
import type { Logger } from "../logger.ts";
import { MAX_TIMEOUT_MS } from "../lib/background-work.ts";
import { recordWillDelay } from "./connection-facts.ts";
import type { Broker } from "./broker.ts";
import { isForgotten } from "./control.ts";
import { ProtocolViolation, PublishRefused } from "./hooks.ts";
import { attachAbsentPublisher, principalFromJson, principalOf, type Principal } from "./identity.ts";
import type { ClientRef, DelayedWill, DelayedWillPacket } from "./persistence/pg-persistence.ts";

/** 0xFFFFFFFF: the session does not expire [MQTT-3.1.2-23]. */
const NEVER = 0xffff_ffff;
/** How long this node remembers having written a client's timers (see #onClientElsewhere). */
const RECENT_WRITE_MS = 60_000;

export interface SessionTimerStore {
  scheduleSessionExpiry(clientId: string, seconds: number): Promise<void>;
  delayWill(clientId: string, will: DelayedWillPacket, seconds: number, publisher: Principal): Promise<void>;
  /** The client's stored will (aedes' mqtt_wills row), for one whose will is not to be published at all. */
  delWill(client: ClientRef): Promise<unknown>;
  resumeSession(clientId: string): Promise<void>;
  sweepExpiredSessions(): Promise<string[]>;
  claimDueWills(endedSessions: readonly string[]): Promise<DelayedWill[]>;
  renewWillClaim(will: DelayedWill): Promise<boolean>;
  settleWill(will: DelayedWill): Promise<void>;
  releaseWill(will: DelayedWill): Promise<void>;
}

/** aedes marks a client id whose session another connection is taking over (on this node, or another with our patch). */
const takingOver = (broker: Broker, clientId: string) =>
  (broker as unknown as { _takingOver?: Set<string> })._takingOver?.has(clientId) === true;

/** A will's properties as published: the Will Delay Interval is the will's own, not the message's. */
function publishedProperties(properties: Record<string, unknown> | undefined): Record<string, unknown> {
  const { willDelayInterval: _delay, ...rest } = properties ?? {};
  return rest;
}

export class DurableSessionTimers {
  readonly #log: Logger;
  #broker: Broker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Wake-ups at the due time of the wills of clients that left this node. */
  readonly #wakeups = new Map<string, NodeJS.Timeout>();
  /** Client ids whose timers this node wrote lately, with when (see #onClientElsewhere). */
  readonly #written = new Map<string, number>();

  constructor(
    private readonly store: SessionTimerStore,
    private readonly options: { sweepMs: number; logger: Logger },
  ) {
    this.#log = options.logger.child({ component: "session-timers" });
  }

  /**
   * aedes' `delayWill` option (our patch): a connection ended without DISCONNECT 0x00 and
   * its will is due in `seconds` = min(Will Delay Interval, Session Expiry Interval) > 0.
   * Also called while this broker closes: the delay then runs on at the next start or on
   * another node. Synchronous: aedes reports the disconnect right after.
   */
  readonly delayWill = (client: Client, will: PublishPacket, seconds: number): void => {
    // A device deleted while connected: its will is dropped, as broker.ts drops an undelayed
    // one (its topics are being cleared), and its stored will with it, which aedes would
    // otherwise publish should this node die.
    if (isForgotten(client)) {
      this.store
        .delWill({ id: client.id, brokerId: this.#broker?.id ?? "" })
        .catch(this.#failed("dropping a deleted device's will", client.id));
      return;
    }
    recordWillDelay(client, seconds);
    this.#wrote(client.id);
    const packet: DelayedWillPacket = {
      topic: will.topic,
      payload: Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload),
      qos: will.qos,
      retain: will.retain,
      properties: publishedProperties(will.properties),
    };
    this.store.delayWill(client.id, packet, seconds, principalOf(client)).then(
      // Armed once the row is written (its due time counts from then): the sweep that
      // publishes the will runs when it is due, not up to MQTT_SESSION_SWEEP_MS later.
      () => this.#wakeAt(client.id, seconds),
      this.#failed("recording a delayed will", client.id),
    );
  };

  /** Follows the broker's connections and starts the sweep (a first one at once). */
  async start(broker: Broker): Promise<void> {
    this.#broker = broker;
    broker.on("client", (client: Client) => {
      this.#written.delete(client.id);
      this.#cancelWakeup(client.id);
      this.store.resumeSession(client.id).catch(this.#failed("resuming a session", client.id));
    });
    broker.on("clientDisconnect", (client: Client) => {
      // 3.1.1: a clean session ends now, another never expires. A taken-over session continues.
      // A deleted device's session was cleared with it (DevicesService.delete).
      if (client.version !== 5 || takingOver(broker, client.id) || isForgotten(client)) return;
      const seconds = (client as unknown as { sessionExpiryInterval?: number }).sessionExpiryInterval ?? 0;
      // 0: aedes ends the session with the connection [MQTT-3.1.2-23].
      if (seconds === 0 || seconds >= NEVER) return;
      this.#wrote(client.id);
      this.store.scheduleSessionExpiry(client.id, seconds).catch(this.#failed("recording the end of a session", client.id));
    });
    // Another node announces each CONNECT it accepts (aedes' takeover message).
    await new Promise<void>((resolve) =>
      broker.subscribe(
        "$SYS/+/new/clients",
        (packet, done) => {
          const nodeId = packet.topic.split("/")[1];
          if (nodeId !== broker.id) this.#onClientElsewhere(packet.payload.toString());
          done();
        },
        resolve,
      ),
    );
    this.#sweep();
    this.#timer = setInterval(() => void this.#running.then(() => this.#sweep()), this.options.sweepMs);
    this.#timer.unref();
  }

  /** Ends the sweep; resolves once a sweep in progress is done. Writes at disconnects go on (PgPersistence.destroy waits for them). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const wakeup of this.#wakeups.values()) clearTimeout(wakeup);
    this.#wakeups.clear();
    await this.#running;
  }

  #wakeAt(clientId: string, seconds: number): void {
    const delayMs = seconds * 1000 + 20;
    if (this.#stopped || delayMs > MAX_TIMEOUT_MS) return;
    this.#cancelWakeup(clientId);
    const wakeup = setTimeout(() => {
      this.#wakeups.delete(clientId);
      void this.#running.then(() => this.#sweep());
    }, delayMs);
    wakeup.unref();
    this.#wakeups.set(clientId, wakeup);
  }

  #cancelWakeup(clientId: string): void {
    clearTimeout(this.#wakeups.get(clientId));
    this.#wakeups.delete(clientId);
  }

  #wrote(clientId: string): void {
    this.#written.set(clientId, Date.now());
  }

  /**
   * The client connected on another node, which deleted its timers. This node may have
   * written them only after that (the client left here and reconnected there at once):
   * deleting them again, behind this node's own write, closes that race [MQTT-3.1.3-9].
   * Only for ids this node wrote lately, so that a CONNECT costs each other node nothing.
   */
  #onClientElsewhere(clientId: string): void {
    this.#cancelWakeup(clientId);
    if (!this.#written.delete(clientId)) return;
    this.store.resumeSession(clientId).catch(this.#failed("resuming a session taken elsewhere", clientId));
  }

  #sweep(): void {
    if (this.#stopped) return;
    this.#running = this.#sweepOnce().catch(this.#failed("the sweep"));
  }

  async #sweepOnce(): Promise<void> {
    const forgetBefore = Date.now() - RECENT_WRITE_MS;
    for (const [clientId, at] of this.#written) if (at < forgetBefore) this.#written.delete(clientId);

    const ended = await this.store.sweepExpiredSessions();
    if (ended.length > 0) this.#log.info({ clientIds: ended.slice(0, 20), count: ended.length }, "ended expired MQTT sessions");
    // A will is due no later than its session's end, and goes with the session at the latest.
    const wills = await this.store.claimDueWills(ended);
    const published: string[] = [];
    for (const will of wills) if (await this.#publish(will)) published.push(will.clientId);
    if (published.length > 0) this.#log.info({ clientIds: published.slice(0, 20), count: published.length }, "published delayed wills");
  }

  /** Publishes a claimed will and deletes it; true once published. Never throws. */
  async #publish(will: DelayedWill): Promise<boolean> {
    const broker = this.#broker;
    const { clientId, packet } = will;
    const { properties, ...fields } = packet;
    const publish = {
      cmd: "publish",
      dup: false,
      ...fields,
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
    } as PublishPacket;
    const publisher = principalFromJson(will.publisher);
    if (publisher) attachAbsentPublisher(publish, publisher);
    try {
      if (!broker) throw new Error("the broker is not started");
      // Still ours, for a fresh lease: a reconnect [MQTT-3.1.3-9] or the device's deletion
      // since the claim deleted it, or another node claimed it once our lease ran out.
      if (!(await this.store.renewWillClaim(will))) {
        this.#log.debug({ clientId }, "a claimed delayed will was cancelled or claimed elsewhere before its publication");
        return false;
      }
      try {
        // No client: aedes publishes a dead node's wills so. The gate checks it with the rights
        // of the client that left (hooks.ts), and the rest of the pipeline stores it.
        await new Promise<void>((resolve, reject) =>
          broker.authorizePublish(null, publish, (error) => (error ? reject(error) : resolve())),
        );
      } catch (error) {
        if (!(error instanceof PublishRefused || error instanceof ProtocolViolation)) throw error;
        // Refused for what it is, so refused again at every try: deleted, not retried.
        this.#log.warn(
          { clientId, topic: packet.topic.slice(0, 200), reason: error.message },
          "dropped a delayed will that the broker refuses",
        );
        await this.store.settleWill(will);
        return false;
      }
      await new Promise<void>((resolve, reject) => broker.publish(publish, (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      this.#failed("publishing a delayed will (the next sweep tries again)", clientId)(error);
      // Given back for the next sweep of any node; should this fail too, the lease runs out.
      await this.store.releaseWill(will).catch(this.#failed("giving back a delayed will", clientId));
      return false;
    }
    // Published. Should the deletion fail, the lease runs out and the will is published again:
    // at least once.
    await this.store.settleWill(will).catch(this.#failed("deleting a published delayed will", clientId));
    return true;
  }

  #failed(what: string, clientId?: string): (error: unknown) => void {
    return (error) =>
      this.#log.warn({ err: (error as Error).message, ...(clientId ? { clientId } : {}) }, `session timers: ${what} failed`);
  }
}
