// MQTT shared subscriptions, `$share/{group}/{filter}` (MQTT 5 section 4.8.2; MQTT 3.1.1
// clients may use them too, as with Mosquitto): each message matching the filter goes to ONE
// member of the group, in the whole deployment, not one per node.
//
// aedes has none: aedes 2 answers a v5 `$share/` SUBSCRIBE with 0x9E, and aedes 1 subscribes
// to the literal filter. So:
// - A member's SUBSCRIBE (and UNSUBSCRIBE) is rewritten as it leaves the parser, before aedes
//   handles it: `$share/g/f` becomes a delivery filter of the member's own,
//   `$fleetwatch-share:{client key}:{g}/f`. aedes then does for it all it does for any
//   subscription: the SUBACK with the granted QoS, the ACL check (our hooks check `f`), storing
//   it for a persistent session (so that session's queue takes messages while it is offline),
//   restoring it on reconnect.
// - Who belongs to each group is in PostgreSQL (shared_subscription_members), written as
//   members join, leave and disconnect, on whichever node. Each node caches it and reloads a
//   group when any node announces a change (controlTopic.shared, carried by mqemitter-redis),
//   and everything every RELOAD_MS, so that members of a node that died count as offline.
// - The node that accepts a PUBLISH picks, for each group whose filter matches, one member
//   (round robin over the members online anywhere; when none is, over persistent sessions,
//   whose queue takes QoS 1 and 2 messages) and publishes one copy on that member's delivery
//   topic, `$fleetwatch-share:{client key}:{g}/{topic}`. Only that member's subscription
//   matches it, on whichever node it is connected (or in its session's queue). So each message
//   is delivered at most once per group, and exactly once while the chosen member stays
//   connected (QoS 1 and 2: or until its persistent session gets it on reconnect).
// - authorizeForward turns the copy back into the original topic and checks that the member
//   may read it, like any message.
// The delivery level starts with `$`, so no wildcard filter matches it [MQTT-4.7.2-1], and
// with `$fleetwatch`, which the gate refuses to every client's SUBSCRIBE.
import { randomUUID } from "node:crypto";
import type { Aedes, Client, PublishPacket } from "aedes";
import QlobberSub from "qlobber/aedes/qlobber-sub.js";
import { controlTopic, isSharedFilter, parseSharedFilter, type SharedFilter } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import type { SharedGroupKey, SharedSubscriptionsRepository, StoredMember } from "./shared-subscriptions.repository.ts";

/** How often every node reloads all memberships (catches members of nodes that died). */
const RELOAD_MS = 10_000;
const DELIVERY_PREFIX = "$fleetwatch-share:";

/** A client id as one topic level: base64url has no "/", "+", "#" or ":". */
const clientKey = (clientId: string) => Buffer.from(clientId, "utf8").toString("base64url");

/** The filter a member subscribes to in place of `$share/{group}/{filter}`. */
export const deliveryFilter = (clientId: string, { group, filter }: SharedFilter) =>
  `${DELIVERY_PREFIX}${clientKey(clientId)}:${group}/${filter}`;
const deliveryTopic = (clientId: string, group: string, topic: string) => `${DELIVERY_PREFIX}${clientKey(clientId)}:${group}/${topic}`;

export interface Delivery {
  clientId: string;
  group: string;
  /** The filter inside (a delivery filter) or the message's own topic (a delivery topic). */
  rest: string;
}

/** A delivery filter or topic split up; null for anything else. */
export function parseDelivery(topic: string): Delivery | null {
  if (!topic.startsWith(DELIVERY_PREFIX)) return null;
  const slash = topic.indexOf("/");
  if (slash < 0) return null;
  const head = topic.slice(DELIVERY_PREFIX.length, slash);
  const colon = head.indexOf(":");
  if (colon < 0) return null;
  return {
    clientId: Buffer.from(head.slice(0, colon), "base64url").toString("utf8"),
    group: head.slice(colon + 1),
    rest: topic.slice(slash + 1),
  };
}

/** The client's own delivery filter for this shared subscription; null for any other filter, or another client's. */
export function ownSharedSubscription(client: Client, topic: string): SharedFilter | null {
  const delivery = parseDelivery(topic);
  if (!delivery || delivery.clientId !== client.id) return null;
  return { group: delivery.group, filter: delivery.rest };
}

interface Group extends SharedGroupKey {
  members: StoredMember[];
  /** Round robin position; per node, which is enough to spread the load. */
  turn: number;
}

interface MqEmitter {
  on(topic: string, listener: (packet: { payload: unknown }, done: () => void) => void, callback?: () => void): void;
  emit(packet: { topic: string; payload: Buffer }, callback?: (error?: Error) => void): void;
  removeListener(topic: string, listener: (packet: { payload: unknown }, done: () => void) => void, callback?: () => void): void;
}

type Publish = (packet: PublishPacket, client: Client | null, done: (error?: Error | null) => void) => void;

const groupKey = ({ group, filter }: SharedGroupKey) => `${group}\u0000${filter}`;

export class SharedSubscriptions {
  readonly #repository: SharedSubscriptionsRepository;
  readonly #log: Logger;
  readonly #groups = new Map<string, Group>();
  /** filter → the groups sharing it (QlobberSub keeps one entry per clientId, here the group key). */
  readonly #matcher = new QlobberSub({ separator: "/", wildcard_one: "+", wildcard_some: "#" });
  readonly #connections = new WeakMap<Client, string>();
  #broker: Aedes | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopListening: (() => void) | undefined;

  constructor(repository: SharedSubscriptionsRepository, logger: Logger) {
    this.#repository = repository;
    this.#log = logger.child({ component: "shared-subscriptions" });
  }

  /** Listens for other nodes' changes, loads every group, wraps the broker's publish. */
  async start(broker: Aedes): Promise<void> {
    this.#broker = broker;
    const mq = (broker as unknown as { mq: MqEmitter }).mq;
    const listener = (packet: { payload: unknown }, done: () => void) => {
      done();
      try {
        const key = JSON.parse(
          Buffer.isBuffer(packet.payload) ? packet.payload.toString("utf8") : String(packet.payload),
        ) as SharedGroupKey;
        if (typeof key.group === "string" && typeof key.filter === "string") void this.#reloadGroup(key);
      } catch {
        // not ours to act on
      }
    };
    // Before loading, so that no change made meanwhile is missed.
    await new Promise<void>((resolve) => mq.on(controlTopic.shared, listener, resolve));
    this.#stopListening = () => mq.removeListener(controlTopic.shared, listener);
    await this.#reloadAll();
    this.#timer = setInterval(() => void this.#reloadAll(), RELOAD_MS);
    this.#timer.unref();

    const publish = (broker.publish as unknown as Publish).bind(broker);
    (broker as unknown as { publish: Publish }).publish = (packet, client, done) => {
      if (typeof client === "function") {
        done = client;
        client = null;
      }
      const copies = this.#copiesFor(packet);
      if (copies.length === 0) return publish(packet, client, done);
      publish(packet, client, (error) => {
        if (error) return done?.(error);
        // A copy that cannot be published is lost for its group alone; the message itself was.
        let pending = copies.length;
        for (const copy of copies)
          publish(copy, null, (copyError) => {
            if (copyError) this.#log.warn({ topic: copy.topic, err: copyError.message }, "a shared subscription's copy was not published");
            if (--pending === 0) done?.(null);
          });
      });
    };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#stopListening?.();
  }

  /**
   * Rewrites the client's `$share/` filters into its delivery filters as each SUBSCRIBE and
   * UNSUBSCRIBE leaves the parser, before aedes sees it. The client id is read when aedes
   * reads the filter: a SUBSCRIBE may arrive in the CONNECT's segment, before the id is known.
   */
  watch(client: Client): void {
    const parser = (client as unknown as { _parser?: NodeJS.EventEmitter })._parser;
    parser?.prependListener("packet", (packet: { cmd?: string; subscriptions?: { topic: string }[]; unsubscriptions?: string[] }) => {
      if (packet.cmd === "subscribe" && packet.subscriptions) {
        for (const subscription of packet.subscriptions) {
          if (!isSharedFilter(subscription.topic)) continue;
          const shared = parseSharedFilter(subscription.topic);
          // Malformed [MQTT-4.8.2-1, MQTT-4.8.2-2]: out of the `$share/` namespace, where aedes
          // would answer 0x9E (not supported), into ours, which the gate refuses (0x87, 3.1.1: 0x80).
          if (!shared) {
            subscription.topic = `${DELIVERY_PREFIX}malformed/${subscription.topic}`;
            continue;
          }
          Object.defineProperty(subscription, "topic", {
            enumerable: true,
            configurable: true,
            get: () => deliveryFilter(client.id, shared),
            set: (value: string) => Object.defineProperty(subscription, "topic", { value, enumerable: true, writable: true }),
          });
        }
      } else if (packet.cmd === "unsubscribe" && packet.unsubscriptions) {
        const topics = packet.unsubscriptions;
        packet.unsubscriptions = new Proxy(topics, {
          get: (target, property, receiver) => {
            const value: unknown = Reflect.get(target, property, receiver);
            if (typeof value !== "string" || typeof property === "symbol" || !/^\d+$/.test(property)) return value;
            const shared = parseSharedFilter(value);
            return shared ? deliveryFilter(client.id, shared) : value;
          },
        });
      }
    });
  }

  /** A `$share/` filter that reached the hooks unrewritten is malformed [MQTT-4.8.2-1, MQTT-4.8.2-2]. */
  isMalformed(topic: string): boolean {
    return isSharedFilter(topic);
  }

  /** The member's subscription was granted (a SUBSCRIBE, or its persistent session restored). */
  async join(client: Client, shared: SharedFilter, qos: number): Promise<void> {
    const connectionId = this.#connectionOf(client);
    await this.#repository.join(shared, { qos, persistent: !client.clean }, { clientId: client.id, nodeId: this.#nodeId(), connectionId });
    // The connection may have ended while the row was written, after its disconnect was recorded.
    if (client.closed) await this.disconnected(client);
    await this.#announce(shared);
  }

  /** The member unsubscribed (its delivery filter). */
  async leave(client: Client, shared: SharedFilter): Promise<void> {
    if (await this.#repository.leave(shared, client.id)) await this.#announce(shared);
  }

  /** The connection ended: its clean memberships end, its persistent ones go offline. Never throws. */
  async disconnected(client: Client): Promise<void> {
    const connectionId = this.#connections.get(client);
    if (!connectionId) return;
    try {
      const changed = await this.#repository.disconnected({ clientId: client.id, nodeId: this.#nodeId(), connectionId }, !client.clean);
      for (const key of changed) await this.#announce(key);
    } catch (error) {
      this.#log.warn({ clientId: client.id, err: (error as Error).message }, "could not record a shared subscription member's disconnect");
    }
  }

  /** The client's session was discarded: it leaves every group. */
  async sessionDiscarded(clientId: string): Promise<void> {
    const changed = await this.#repository.sessionDiscarded(clientId);
    for (const key of changed) await this.#announce(key);
  }

  /**
   * The message a delivery copy carries, as its member is to receive it: its own topic, if the
   * member may read it; null to drop it; undefined when `packet` is no delivery copy.
   */
  forward<P extends PublishPacket>(client: Client, packet: P, mayReceive: (topic: string) => boolean): P | null | undefined {
    const delivery = parseDelivery(packet.topic);
    if (!delivery) return undefined;
    if (delivery.clientId !== client.id || !mayReceive(delivery.rest)) return null;
    return { ...packet, topic: delivery.rest };
  }

  /**
   * The member's delivery filter is about to leave this node's emitter (an UNSUBSCRIBE, or a
   * clean session's connection closing). Other nodes may still pick it for a moment, until
   * they hear of the change; whatever reaches its delivery topic meanwhile is passed to another
   * member of the group instead of being lost. A persistent session's closing connection is
   * not redirected: its queue takes those messages [MQTT-4.8.2-4].
   */
  redirectWhileLeaving(topic: string): void {
    const delivery = parseDelivery(topic);
    const mq = (this.#broker as unknown as { mq: MqEmitter } | undefined)?.mq;
    if (!delivery || !mq) return;
    const client = (this.#broker as unknown as { clients: Record<string, Client | undefined> }).clients[delivery.clientId];
    if (client && client.closed && !client.clean) return;
    const key: SharedGroupKey = { group: delivery.group, filter: delivery.rest };
    const redirect = (packet: { payload: unknown }, done: () => void) => {
      done();
      const copy = packet as unknown as PublishPacket;
      const copyOf = parseDelivery(copy.topic);
      // Still subscribed here after all (a SUBSCRIBE that changed its options replaces the listener).
      const now = (this.#broker as unknown as { clients: Record<string, Client | undefined> }).clients[delivery.clientId];
      if (!copyOf || (now && !now.closed && (now as unknown as { subscriptions: Record<string, unknown> }).subscriptions[topic])) return;
      const group = this.#groups.get(groupKey(key));
      const member = group && this.#choose(group, copy.qos, delivery.clientId);
      if (!member || !group) return;
      const publish = (this.#broker as unknown as { publish: Publish }).publish;
      publish(this.#copy(copy, member, group, copyOf.rest), null, () => undefined);
    };
    mq.on(topic, redirect);
    setTimeout(() => mq.removeListener(topic, redirect), RELOAD_MS + 2_000).unref();
  }

  /** The members this node knows of (tests, diagnostics). */
  members(shared: SharedFilter): readonly StoredMember[] {
    return this.#groups.get(groupKey(shared))?.members ?? [];
  }

  #copiesFor(packet: PublishPacket): PublishPacket[] {
    // $-topics (the platform's own, $SYS, the copies themselves) are never shared [MQTT-4.7.2-1].
    if (this.#groups.size === 0 || packet.topic.startsWith("$")) return [];
    const copies: PublishPacket[] = [];
    for (const entry of this.#matcher.match(packet.topic)) {
      const group = this.#groups.get(entry.clientId);
      if (!group) continue;
      const member = this.#choose(group, packet.qos);
      if (member) copies.push(this.#copy(packet, member, group, packet.topic));
    }
    return copies;
  }

  #copy(packet: PublishPacket, member: StoredMember, group: Group, topic: string): PublishPacket {
    return {
      ...packet,
      cmd: "publish",
      topic: deliveryTopic(member.clientId, group.group, topic),
      // The member's granted QoS bounds it [MQTT-4.8.2-3].
      qos: Math.min(packet.qos, member.qos) as 0 | 1 | 2,
      // Retained messages are not sent through a shared subscription (as Mosquitto does): a
      // copy is never stored as retained.
      retain: false,
      dup: false,
    };
  }

  /**
   * Round robin over the members online anywhere; with none online, over persistent sessions,
   * whose queue keeps a QoS 1 or 2 message until their client is back (QoS 0 is not queued
   * for an offline session, so it goes to nobody).
   */
  #choose(group: Group, qos: number, except?: string): StoredMember | undefined {
    const members = except === undefined ? group.members : group.members.filter((member) => member.clientId !== except);
    const online = members.filter((member) => member.online);
    const candidates = online.length > 0 ? online : qos > 0 ? members.filter((member) => member.persistent && member.qos > 0) : [];
    if (candidates.length === 0) return undefined;
    const member = candidates[group.turn % candidates.length];
    group.turn = (group.turn + 1) % Number.MAX_SAFE_INTEGER;
    return member;
  }

  async #reloadAll(): Promise<void> {
    try {
      const members = await this.#repository.all();
      const fresh = new Map<string, StoredMember[]>();
      for (const member of members) {
        const key = groupKey(member);
        const list = fresh.get(key) ?? [];
        list.push(member);
        fresh.set(key, list);
      }
      for (const [key, group] of this.#groups) if (!fresh.has(key)) this.#setGroup(group, []);
      for (const list of fresh.values()) this.#setGroup(list[0]!, list);
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, "could not reload shared subscriptions; keeping the last known members");
    }
  }

  async #reloadGroup(key: SharedGroupKey): Promise<void> {
    try {
      this.#setGroup(key, await this.#repository.group(key));
    } catch (error) {
      this.#log.warn({ ...key, err: (error as Error).message }, "could not reload a shared subscription's members");
    }
  }

  #setGroup(key: SharedGroupKey, members: StoredMember[]): void {
    const id = groupKey(key);
    const existing = this.#groups.get(id);
    if (members.length === 0) {
      if (!existing) return;
      this.#groups.delete(id);
      this.#matcher.remove(key.filter, { clientId: id, topic: key.filter });
      return;
    }
    if (existing) existing.members = members;
    else {
      this.#groups.set(id, { group: key.group, filter: key.filter, members, turn: 0 });
      this.#matcher.add(key.filter, { clientId: id, topic: key.filter, qos: 0 });
    }
  }

  async #announce(key: SharedGroupKey): Promise<void> {
    // This node first, so that its next publish already sees the change.
    await this.#reloadGroup(key);
    const mq = (this.#broker as unknown as { mq: MqEmitter } | undefined)?.mq;
    if (!mq) return;
    await new Promise<void>((resolve) =>
      mq.emit({ topic: controlTopic.shared, payload: Buffer.from(JSON.stringify({ group: key.group, filter: key.filter })) }, (error) => {
        if (error) this.#log.warn({ ...key, err: error.message }, "could not tell the other nodes about a shared subscription change");
        resolve();
      }),
    );
  }

  #connectionOf(client: Client): string {
    let id = this.#connections.get(client);
    if (!id) {
      id = randomUUID();
      this.#connections.set(client, id);
    }
    return id;
  }

  #nodeId(): string {
    return this.#broker?.id ?? "unknown";
  }
}
