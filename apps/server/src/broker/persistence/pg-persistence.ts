// An aedes persistence backed by PostgreSQL: retained messages, the subscriptions and
// QoS 1/2 queues of persistent sessions (cleanSession=0), in-flight QoS 2 packets and Last
// Wills survive a restart, and several broker nodes can share them. It implements the
// asynchronous interface of aedes-persistence 11 (see its README and abstract.js, which
// test/persistence.conformance.test.ts runs against this class), so any other aedes
// persistence (the Redis one, say) can replace it.
//
// Per-node state, and why it is safe:
// - The subscription trie (`subscriptionsByTopic` runs for every QoS 1/2 publish, so it
//   cannot be a query) is loaded from PostgreSQL at setup and kept in step across nodes by
//   broadcasting each change on the broker (`$SYS/fleetwatch/subscriptions`; mqemitter-redis
//   carries it to the other nodes), as aedes' own persistences do; and rebuilt from PostgreSQL
//   when the Redis bridge reconnects, since pub/sub drops what was sent while it was down.
// - Writes for one retained topic or one publish topic are chained on this node, so that two
//   publishes handled concurrently cannot be stored out of order [MQTT-4.6.0-5].
// Other packages' type checks compile this file without apps/server's types folder, so the
// declaration is referenced from here rather than found through a tsconfig.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../types/qlobber.d.ts" />
import { Readable } from "node:stream";
import type pg from "pg";
import QlobberSub from "qlobber/aedes/qlobber-sub.js";
import {
  AedesPacket,
  decodePacket,
  decodeValue,
  encodePacket,
  encodeValue,
  payloadLength,
  type PacketRow,
  type StoredPacket,
} from "./packet-codec.ts";
import { topicFilterCondition, topicFilterSql } from "../../db/topic-filter.ts";

/** What the persistence needs of the broker (aedes, or the abstract suite's stand-in). */
export interface PersistenceBroker {
  id: string;
  counter: number;
  publish(packet: { topic: string; payload: Buffer; cmd?: "publish"; qos?: 0; retain?: false }, done: (error?: Error | null) => void): void;
  subscribe(topic: string, handler: BroadcastHandler, done: (error?: Error | null) => void): void;
  unsubscribe(topic: string, handler: BroadcastHandler, done: (error?: Error | null) => void): void;
}
type BroadcastHandler = (packet: { payload: Buffer | string }, done: () => void) => void;

/** A will whose publication its Will Delay Interval deferred (mqtt_delayed_wills). */
export interface DelayedWillPacket {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** The will's properties other than the Will Delay Interval, published with it. */
  properties: Record<string, unknown>;
}

export interface DelayedWill {
  clientId: string;
  packet: DelayedWillPacket;
  /**
   * Who left the will, as the broker's identity recorded it when the connection ended
   * (session-timers.ts reads it), as stored: null for a will written without one.
   */
  publisher: unknown;
  /** This claim's id: settleWill, releaseWill and renewWillClaim act only while it is still the will's. */
  claim: string;
}

/**
 * How long a claimed delayed will is held by the node that claimed it before any node may
 * claim it again. Longer than publishing one will takes (the claim is renewed before each
 * publish), short enough that the offline notice of a node that died holding claims is late
 * by half a minute at most.
 */
export const DELAYED_WILL_LEASE_S = 30;

export interface ClientRef {
  id: string;
  brokerId?: string;
}

export interface Subscription {
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
  [option: string]: unknown;
}

export interface SubscriptionMatch {
  clientId: string;
  topic: string;
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
}

export interface PgPersistenceOptions {
  pool: pg.Pool;
  /**
   * Most QoS 1/2 PUBLISH packets queued per client (SESSION_QUEUE_LIMIT). When a new one
   * arrives at a full queue, the oldest queued PUBLISH is dropped (in-flight PUBREL entries
   * are kept, so a QoS 2 exchange can still complete), and the drop is counted per client in
   * mqtt_queue_drops and reported through onDrop.
   */
  queueLimit: number;
  onDrop?: (clientId: string, dropped: number) => void;
  /** A queued write (see storeRetained) or a retained lookup failed. */
  onError?: (error: unknown) => void;
}

const BROADCAST_TOPIC = "$SYS/fleetwatch/subscriptions";
const PAGE_SIZE = 100;

type BroadcastMessage =
  | { brokerId: string; clientId: string; op: "add"; subs: Subscription[] }
  | { brokerId: string; clientId: string; op: "remove"; topics: string[] };

const PACKET_COLUMNS = "packet, payload, payload_is_string";

export class PgPersistence {
  readonly #pool: pg.Pool;
  readonly #queueLimit: number;
  readonly #onDrop: ((clientId: string, dropped: number) => void) | undefined;
  readonly #onError: (error: unknown) => void;
  #trie = newTrie();
  /** Changes heard or made while the trie is being rebuilt: applied again to the new one (reloadSubscriptions). */
  #changesDuringReload: BroadcastMessage[] | undefined;
  readonly #chains = new Map<string, Promise<unknown>>();
  #broker: PersistenceBroker | undefined;
  #destroyed = false;
  readonly #onBroadcast: BroadcastHandler = (packet, done) => {
    try {
      this.#applyBroadcast(JSON.parse(packet.payload.toString()) as BroadcastMessage);
    } catch {
      // A malformed broadcast changes nothing; the next setup() reloads from the database.
    }
    done();
  };

  constructor(options: PgPersistenceOptions) {
    this.#pool = options.pool;
    this.#queueLimit = options.queueLimit;
    this.#onDrop = options.onDrop;
    this.#onError = options.onError ?? (() => {});
  }

  get broker(): PersistenceBroker | undefined {
    return this.#broker;
  }

  async setup(broker: PersistenceBroker): Promise<void> {
    this.#broker = broker;
    // Listen before loading, so that no change made by another node in between is missed
    // (adding a subscription twice is harmless).
    await new Promise<void>((resolve, reject) =>
      broker.subscribe(BROADCAST_TOPIC, this.#onBroadcast, (error) => (error ? reject(error) : resolve())),
    );
    await this.reloadSubscriptions();
  }

  /**
   * Rebuilds the trie from PostgreSQL: at setup, and whenever this node may have missed other
   * nodes' broadcasts (the Redis bridge reconnected: pub/sub drops what was sent meanwhile).
   * Otherwise a persistent session's subscription made on another node in that moment would be
   * missing here until a restart, and the QoS 1/2 messages published on this node for it would
   * not be queued. Changes heard or made during the load are applied again to the new trie
   * after it, in order: the snapshot may or may not hold them, and each is idempotent. The
   * trie in use stays current meanwhile, and is swapped at once.
   */
  reloadSubscriptions(): Promise<void> {
    return this.#serialize("subscription-trie", async () => {
      const changes: BroadcastMessage[] = [];
      this.#changesDuringReload = changes;
      try {
        const { rows } = await this.#pool.query<{ client_id: string; topic: string; qos: number; options: Record<string, unknown> }>(
          "SELECT client_id, topic, qos, options FROM mqtt_subscriptions WHERE qos > 0 ORDER BY seq",
        );
        const trie = newTrie();
        for (const row of rows)
          trie.add(row.topic, trieEntry(row.client_id, { topic: row.topic, qos: row.qos, ...decodeOptions(row.options) }));
        for (const change of changes) applyChange(trie, change);
        this.#trie = trie;
      } finally {
        this.#changesDuringReload = undefined;
      }
    });
  }

  // ---- retained messages -------------------------------------------------------------

  /** [MQTT-3.3.1-5] keeps the last retained message per topic; an empty payload clears it [MQTT-3.3.1-10, MQTT-3.3.1-11]. */
  /**
   * Called by aedes between numbering a packet (brokerCounter) and routing it to
   * subscribers, and each subscriber drops a packet numbered lower than one it already got
   * (aedes lib/client.js dedupe). A database round trip here would let later packets
   * overtake this one, and subscribers would silently lose it. So this only queues the
   * write, in order per topic, and resolves at once. Client publishes were already written
   * durably before their ack (storeRetainedDurably, in the publish pipeline); the queued
   * write covers the server's own retained publishes and keeps the final state in the
   * order subscribers saw. Reads on this node wait for queued writes (createRetainedStream).
   */
  storeRetained(packet: StoredPacket): Promise<void> {
    this.storeRetainedDurably(packet).catch(this.#onError);
    return Promise.resolve();
  }

  /** Writes (or, for an empty payload, clears [MQTT-3.3.1-10/11]) a retained message; resolves once committed. */
  async storeRetainedDurably(packet: StoredPacket): Promise<void> {
    const topic = String(packet.topic);
    await this.#serialize(`retained:${topic}`, async () => {
      if (payloadLength(packet.payload) === 0) {
        await this.#pool.query("DELETE FROM mqtt_retained WHERE topic = $1", [topic]);
        return;
      }
      const encoded = encodePacket({ ...packet });
      await this.#pool.query(
        `INSERT INTO mqtt_retained (topic, packet, payload, payload_is_string, updated_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (topic) DO UPDATE SET packet = EXCLUDED.packet, payload = EXCLUDED.payload,
           payload_is_string = EXCLUDED.payload_is_string, updated_at = EXCLUDED.updated_at`,
        [topic, encoded.fields, encoded.payload, encoded.payloadIsString],
      );
    });
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  /** Each retained message matching any of the filters, once, in topic order, read page by page. */
  createRetainedStreamCombi(patterns: string[]): Readable {
    const pool = this.#pool;
    const onError = this.#onError;
    // Read-your-writes on this node: retained writes queued by storeRetained land first.
    const queuedWrites = [...this.#chains].filter(([key]) => key.startsWith("retained:")).map(([, settled]) => settled);
    return Readable.from(
      (async function* () {
        await Promise.all(queuedWrites);
        const params: string[] = [];
        const conditions: string[] = [];
        for (const pattern of patterns) {
          // aedes validated the filters; one that is not valid matches nothing.
          const condition = topicFilterCondition(pattern);
          if (!condition) continue;
          const sql = topicFilterSql("topic", condition, params.length + 2);
          params.push(...sql.params);
          conditions.push(sql.sql);
        }
        if (conditions.length === 0) return;
        let after = "";
        for (;;) {
          let rows: (PacketRow & { topic: string })[];
          try {
            ({ rows } = await pool.query<PacketRow & { topic: string }>(
              `SELECT topic, ${PACKET_COLUMNS} FROM mqtt_retained WHERE topic > $1 AND (${conditions.join(" OR ")}) ORDER BY topic LIMIT ${PAGE_SIZE}`,
              [after, ...params],
            ));
          } catch (error) {
            // aedes consumes this stream without an error handler: an error here would be an
            // uncaught exception. With the database unreachable, a new subscription gets no
            // retained messages (reported), and the broker keeps serving.
            onError(error);
            return;
          }
          for (const row of rows) yield decodePacket(row);
          if (rows.length < PAGE_SIZE) return;
          after = (rows[rows.length - 1] as { topic: string }).topic;
        }
      })(),
    );
  }

  // ---- subscriptions of persistent sessions ------------------------------------------

  async addSubscriptions(client: ClientRef, subs: Subscription[]): Promise<void> {
    // The last of several subscriptions to one filter in a SUBSCRIBE wins [MQTT-3.8.4-3].
    const byTopic = new Map<string, Subscription>();
    for (const sub of subs) byTopic.set(sub.topic, sub);
    if (byTopic.size === 0) return;
    const list = [...byTopic.values()];
    await this.#pool.query(
      `INSERT INTO mqtt_subscriptions (client_id, topic, qos, options)
       SELECT $1, s.topic, s.qos, s.options FROM unnest($2::text[], $3::int2[], $4::jsonb[]) WITH ORDINALITY AS s(topic, qos, options, n) ORDER BY s.n
       ON CONFLICT (client_id, topic) DO UPDATE SET qos = EXCLUDED.qos, options = EXCLUDED.options`,
      [client.id, list.map((s) => s.topic), list.map((s) => s.qos), list.map((s) => encodeOptions(s))],
    );
    const change: BroadcastMessage = { brokerId: this.#brokerId(), clientId: client.id, op: "add", subs: list };
    await this.#change(change);
  }

  async removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    if (topics.length === 0) return;
    await this.#pool.query("DELETE FROM mqtt_subscriptions WHERE client_id = $1 AND topic = ANY($2::text[])", [client.id, topics]);
    const change: BroadcastMessage = { brokerId: this.#brokerId(), clientId: client.id, op: "remove", topics };
    await this.#change(change);
  }

  /** The subscriptions restored when the client reconnects with cleanSession=0 [MQTT-3.1.2-4]. */
  async subscriptionsByClient(client: ClientRef): Promise<Subscription[]> {
    const { rows } = await this.#pool.query<{ topic: string; qos: number; options: Record<string, unknown> }>(
      "SELECT topic, qos, options FROM mqtt_subscriptions WHERE client_id = $1 ORDER BY seq",
      [client.id],
    );
    return rows.map((row) => ({ topic: row.topic, qos: row.qos, ...decodeOptions(row.options) }));
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    const { rows } = await this.#pool.query<{ subs: number; clients: number }>(
      "SELECT (count(*) FILTER (WHERE qos > 0))::int AS subs, (count(DISTINCT client_id))::int AS clients FROM mqtt_subscriptions",
    );
    return { subsCount: rows[0]?.subs ?? 0, clientsCount: rows[0]?.clients ?? 0 };
  }

  /** QoS 1/2 subscriptions of persistent sessions matching a topic; served from the trie. */
  async subscriptionsByTopic(topic: string): Promise<SubscriptionMatch[]> {
    return this.#trie.match(topic);
  }

  async cleanSubscriptions(client: ClientRef): Promise<void> {
    const { rows } = await this.#pool.query<{ topic: string }>("DELETE FROM mqtt_subscriptions WHERE client_id = $1 RETURNING topic", [
      client.id,
    ]);
    if (rows.length === 0) return;
    const topics = rows.map((row) => row.topic);
    const change: BroadcastMessage = { brokerId: this.#brokerId(), clientId: client.id, op: "remove", topics };
    await this.#change(change);
  }

  getClientList(topic: string): Readable {
    const pool = this.#pool;
    return Readable.from(
      (async function* () {
        const { rows } = await pool.query<{ client_id: string }>("SELECT client_id FROM mqtt_subscriptions WHERE topic = $1 ORDER BY seq", [
          topic,
        ]);
        for (const row of rows) yield row.client_id;
      })(),
    );
  }

  // ---- outgoing QoS 1/2 queues -------------------------------------------------------

  async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet);
  }

  /**
   * Queues a copy of the packet for each client (once per client, however many of its
   * subscriptions match: aedes delivers it once), dropping the oldest queued PUBLISH of a
   * client whose queue is full.
   */
  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: StoredPacket): Promise<void> {
    if (subs.length === 0) return;
    const clientIds = [...new Set(subs.map((sub) => sub.clientId))];
    const stored = new AedesPacket(packet);
    const encoded = encodePacket(stored);
    const { rows } = await this.#serialize(`outgoing:${String(packet.topic)}`, () =>
      this.#pool.query<{ client_id: string; dropped: number }>(
        `WITH cut AS (
           SELECT c.client_id, (SELECT o.seq FROM mqtt_outgoing o WHERE o.client_id = c.client_id AND o.cmd = 'publish'
                                ORDER BY o.seq DESC OFFSET $8 LIMIT 1) AS seq
           FROM unnest($1::text[]) AS c(client_id)
         ), dropped AS (
           DELETE FROM mqtt_outgoing o USING cut
           WHERE cut.seq IS NOT NULL AND o.client_id = cut.client_id AND o.cmd = 'publish' AND o.seq <= cut.seq
           RETURNING o.client_id
         ), inserted AS (
           INSERT INTO mqtt_outgoing (client_id, cmd, broker_id, broker_counter, message_id, packet, payload, payload_is_string)
           SELECT c.client_id, $2, $3, $4, NULL, $5, $6, $7 FROM unnest($1::text[]) WITH ORDINALITY AS c(client_id, n) ORDER BY c.n
         ), counts AS (
           SELECT client_id, count(*)::int AS dropped FROM dropped GROUP BY client_id
         ), counted AS (
           INSERT INTO mqtt_queue_drops (client_id, dropped) SELECT client_id, dropped FROM counts
           ON CONFLICT (client_id) DO UPDATE SET dropped = mqtt_queue_drops.dropped + EXCLUDED.dropped, last_dropped_at = now()
         )
         SELECT client_id, dropped FROM counts`,
        [
          clientIds,
          stored.cmd ?? "publish",
          stored.brokerId ?? null,
          stored.brokerCounter ?? null,
          encoded.fields,
          encoded.payload,
          encoded.payloadIsString,
          // Existing entries beyond limit - 1 make room for the one inserted now.
          Math.max(this.#queueLimit - 1, 0),
        ],
      ),
    );
    for (const row of rows) this.#onDrop?.(row.client_id, row.dropped);
  }

  /**
   * Records the packet identifier aedes assigned to a queued packet (matched by the broker
   * that created it and its counter), or replaces the entry with the same packet identifier
   * (a PUBLISH by its PUBREL, [MQTT-4.3.3-1]).
   */
  async outgoingUpdate(client: ClientRef, packet: StoredPacket): Promise<void> {
    const messageId = packet.messageId ?? null;
    if (packet.brokerId !== undefined && packet.brokerId !== null && packet.brokerCounter !== undefined) {
      const updated = await this.#pool.query(
        "UPDATE mqtt_outgoing SET message_id = $4 WHERE client_id = $1 AND broker_id = $2 AND broker_counter = $3",
        [client.id, packet.brokerId, packet.brokerCounter, messageId],
      );
      if ((updated.rowCount ?? 0) > 0) return;
    }
    const encoded = encodePacket(packet);
    const replaced = await this.#pool.query(
      `UPDATE mqtt_outgoing SET cmd = $3, broker_id = $4, broker_counter = $5, message_id = $2,
         packet = $6, payload = $7, payload_is_string = $8
       WHERE client_id = $1 AND seq = (
         SELECT seq FROM mqtt_outgoing WHERE client_id = $1 AND message_id = $2 AND broker_id IS DISTINCT FROM $4 ORDER BY seq LIMIT 1)`,
      [
        client.id,
        messageId,
        packet.cmd ?? "publish",
        packet.brokerId ?? null,
        packet.brokerCounter ?? null,
        encoded.fields,
        encoded.payload,
        encoded.payloadIsString,
      ],
    );
    if ((replaced.rowCount ?? 0) === 0) throw new Error("no such packet");
  }

  /** Removes the entry a PUBACK or PUBCOMP acknowledges and returns it (undefined when unknown). */
  async outgoingClearMessageId(client: ClientRef, packet: { messageId?: number } | null | undefined): Promise<StoredPacket | undefined> {
    const messageId = typeof packet === "object" && packet !== null ? packet.messageId : undefined;
    if (messageId === undefined || messageId === null) return undefined;
    const { rows } = await this.#pool.query<PacketRow & { message_id: number | null }>(
      `DELETE FROM mqtt_outgoing WHERE client_id = $1 AND seq = (
         SELECT seq FROM mqtt_outgoing WHERE client_id = $1 AND message_id = $2 ORDER BY seq LIMIT 1)
       RETURNING message_id, ${PACKET_COLUMNS}`,
      [client.id, messageId],
    );
    return rows[0] ? decodeOutgoing(rows[0]) : undefined;
  }

  /**
   * The client's queue in order, read page by page. It ends at the entries that existed when
   * it was created: later ones are delivered live, and reading them here too would send them twice.
   */
  outgoingStream(client: ClientRef): Readable {
    const pool = this.#pool;
    return Readable.from(
      (async function* () {
        const last = await pool.query<{ max: string | null }>("SELECT max(seq)::text AS max FROM mqtt_outgoing WHERE client_id = $1", [
          client.id,
        ]);
        const max = last.rows[0]?.max;
        if (max === null || max === undefined) return;
        let after = "0";
        for (;;) {
          const { rows } = await pool.query<PacketRow & { seq: string; message_id: number | null }>(
            `SELECT seq::text AS seq, message_id, ${PACKET_COLUMNS} FROM mqtt_outgoing
             WHERE client_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT ${PAGE_SIZE}`,
            [client.id, after, max],
          );
          for (const row of rows) yield decodeOutgoing(row);
          if (rows.length < PAGE_SIZE) return;
          after = (rows[rows.length - 1] as { seq: string }).seq;
        }
      })(),
    );
  }

  // ---- incoming QoS 2 ----------------------------------------------------------------

  async incomingStorePacket(client: ClientRef, packet: StoredPacket): Promise<void> {
    const stored = new AedesPacket(packet);
    stored.messageId = packet.messageId;
    const encoded = encodePacket(stored);
    await this.#pool.query(
      `INSERT INTO mqtt_incoming (client_id, message_id, packet, payload, payload_is_string) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_id, message_id) DO UPDATE SET packet = EXCLUDED.packet, payload = EXCLUDED.payload, payload_is_string = EXCLUDED.payload_is_string`,
      [client.id, packet.messageId, encoded.fields, encoded.payload, encoded.payloadIsString],
    );
  }

  async incomingGetPacket(client: ClientRef, packet: { messageId?: number }): Promise<StoredPacket> {
    const { rows } = await this.#pool.query<PacketRow>(
      `SELECT ${PACKET_COLUMNS} FROM mqtt_incoming WHERE client_id = $1 AND message_id = $2`,
      [client.id, packet.messageId],
    );
    if (!rows[0]) throw new Error("no such packet");
    return decodePacket(rows[0]);
  }

  async incomingDelPacket(client: ClientRef, packet: { messageId?: number }): Promise<void> {
    const deleted = await this.#pool.query("DELETE FROM mqtt_incoming WHERE client_id = $1 AND message_id = $2", [
      client.id,
      packet.messageId,
    ]);
    if ((deleted.rowCount ?? 0) === 0) throw new Error("no such packet");
  }

  /** [MQTT-3.1.2-6]: the QoS 2 dedup state ends with a clean session. */
  async cleanIncoming(client: ClientRef): Promise<void> {
    await this.#pool.query("DELETE FROM mqtt_incoming WHERE client_id = $1", [client.id]);
  }

  // ---- MQTT 5 session expiry ------------------------------------------------------------

  /**
   * The session of a connection that just ended is to end `seconds` from now [MQTT-3.1.2-23].
   * In PostgreSQL rather than a timer of this node: a restart, or the sweep of any other
   * node, still ends it. Serialized with `resumeSession` of the same client on this node.
   */
  scheduleSessionExpiry(clientId: string, seconds: number): Promise<void> {
    return this.#serialize(`session:${clientId}`, async () => {
      await this.#pool.query(
        `INSERT INTO mqtt_session_expiry (client_id, expires_at) VALUES ($1, now() + make_interval(secs => $2))
         ON CONFLICT (client_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [clientId, seconds],
      );
    });
  }

  /**
   * The client connected again (on any node): its session no longer ends by itself, and its
   * delayed will is not published [MQTT-3.1.3-9]. One statement: it runs on every CONNECT.
   */
  resumeSession(clientId: string): Promise<void> {
    return this.#serialize(`session:${clientId}`, async () => {
      await this.#pool.query(
        `WITH will AS (DELETE FROM mqtt_delayed_wills WHERE client_id = $1)
         DELETE FROM mqtt_session_expiry WHERE client_id = $1`,
        [clientId],
      );
    });
  }

  /**
   * Ends the sessions whose expiry has passed: their subscriptions, queued messages, QoS 2
   * state and will go [MQTT-4.1.0-2]. Every node may run it at once: the DELETE claims each
   * session for one of them. Returns the client ids of the sessions it ended.
   */
  async sweepExpiredSessions(limit = 500): Promise<string[]> {
    const { rows } = await this.#pool.query<{ client_id: string }>(
      `DELETE FROM mqtt_session_expiry WHERE client_id IN (
         SELECT client_id FROM mqtt_session_expiry WHERE expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ) RETURNING client_id`,
      [limit],
    );
    for (const { client_id: id } of rows) {
      await this.cleanSubscriptions({ id });
      await this.#pool.query("DELETE FROM mqtt_outgoing WHERE client_id = $1", [id]);
      await this.cleanIncoming({ id });
      await this.delWill({ id });
    }
    return rows.map((row) => row.client_id);
  }

  // ---- MQTT 5 delayed wills ---------------------------------------------------------------

  /**
   * The connection of `clientId` ended and its will is to be published `seconds` from now
   * (the smaller of its Will Delay Interval and Session Expiry Interval) [MQTT-3.1.2-8]. The
   * will moves from mqtt_wills, where aedes' sweep would publish it at once should this node
   * stop, to mqtt_delayed_wills, where the will sweep of any node publishes it when due.
   * Serialized with `resumeSession` of the same client on this node.
   */
  delayWill(clientId: string, will: DelayedWillPacket, seconds: number, publisher: unknown = null): Promise<void> {
    return this.#serialize(`session:${clientId}`, async () => {
      // A newer will replaces the row, claim included: a claim of the older one no longer holds.
      await this.#pool.query(
        `WITH held AS (DELETE FROM mqtt_wills WHERE client_id = $1 AND broker_id = $7)
         INSERT INTO mqtt_delayed_wills (client_id, topic, payload, qos, retain, properties, due_at, node_id, publisher)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $8), $7, $9)
         ON CONFLICT (client_id) DO UPDATE SET topic = EXCLUDED.topic, payload = EXCLUDED.payload, qos = EXCLUDED.qos,
           retain = EXCLUDED.retain, properties = EXCLUDED.properties, due_at = EXCLUDED.due_at, node_id = EXCLUDED.node_id,
           publisher = EXCLUDED.publisher, claimed_until = NULL, claim_id = NULL, created_at = now()`,
        [
          clientId,
          will.topic,
          will.payload,
          will.qos,
          will.retain,
          JSON.stringify(encodeValue(will.properties)),
          this.#brokerId(),
          seconds,
          publisher === null ? null : JSON.stringify(publisher),
        ],
      );
    });
  }

  /**
   * Claims the delayed wills that are due, and those of the sessions just ended (whose will
   * goes with the session [MQTT-3.1.3-9]), for publication, for DELAYED_WILL_LEASE_S: the
   * claimer deletes each once published (settleWill) or gives it back (releaseWill). Every
   * node may run it at once: SKIP LOCKED gives each will to one of them, and a will whose
   * lease ran out (its claimer died) is claimable again.
   */
  async claimDueWills(endedSessions: readonly string[] = [], limit = 500): Promise<DelayedWill[]> {
    const { rows } = await this.#pool.query<{
      client_id: string;
      topic: string;
      payload: Buffer;
      qos: number;
      retain: boolean;
      properties: unknown;
      publisher: unknown;
      claim_id: string;
      due_at: Date;
    }>(
      `UPDATE mqtt_delayed_wills SET claimed_until = now() + make_interval(secs => $3), claim_id = gen_random_uuid()
       WHERE client_id IN (
         SELECT client_id FROM mqtt_delayed_wills
         WHERE (due_at <= now() OR client_id = ANY($2::text[])) AND (claimed_until IS NULL OR claimed_until <= now())
         ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
       ) RETURNING client_id, topic, payload, qos, retain, properties, publisher, claim_id::text AS claim_id, due_at`,
      [limit, endedSessions, DELAYED_WILL_LEASE_S],
    );
    // In due order, as claimed (RETURNING keeps none).
    rows.sort((a, b) => a.due_at.getTime() - b.due_at.getTime());
    return rows.map((row) => ({
      clientId: row.client_id,
      packet: {
        topic: row.topic,
        payload: row.payload,
        qos: row.qos as 0 | 1 | 2,
        retain: row.retain,
        properties: decodeValue(row.properties) as Record<string, unknown>,
      },
      publisher: row.publisher,
      claim: row.claim_id,
    }));
  }

  /**
   * Whether the claimed will is still this claim's (not cancelled by a reconnect or a device's
   * deletion, nor claimed by another node after the lease ran out); if so, its lease starts
   * again, for the publish about to happen.
   */
  async renewWillClaim({ clientId, claim }: Pick<DelayedWill, "clientId" | "claim">): Promise<boolean> {
    const renewed = await this.#pool.query(
      `UPDATE mqtt_delayed_wills SET claimed_until = now() + make_interval(secs => $3) WHERE client_id = $1 AND claim_id = $2`,
      [clientId, claim, DELAYED_WILL_LEASE_S],
    );
    return (renewed.rowCount ?? 0) > 0;
  }

  /** The claimed will is done with (published, or refused): deleted, unless something newer replaced it. */
  async settleWill({ clientId, claim }: Pick<DelayedWill, "clientId" | "claim">): Promise<void> {
    await this.#pool.query("DELETE FROM mqtt_delayed_wills WHERE client_id = $1 AND claim_id = $2", [clientId, claim]);
  }

  /** The claimed will could not be published: claimable again at once, by the next sweep of any node. */
  async releaseWill({ clientId, claim }: Pick<DelayedWill, "clientId" | "claim">): Promise<void> {
    await this.#pool.query("UPDATE mqtt_delayed_wills SET claimed_until = NULL, claim_id = NULL WHERE client_id = $1 AND claim_id = $2", [
      clientId,
      claim,
    ]);
  }

  // ---- wills -------------------------------------------------------------------------

  async putWill(client: ClientRef, packet: StoredPacket): Promise<void> {
    // aedes-persistence stamps the will in place; streamWill returns it in this shape.
    packet.brokerId = this.#brokerId();
    packet.clientId = client.id;
    const encoded = encodePacket(packet);
    await this.#pool.query(
      `INSERT INTO mqtt_wills (client_id, broker_id, packet, payload, payload_is_string) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (client_id) DO UPDATE SET broker_id = EXCLUDED.broker_id, packet = EXCLUDED.packet, payload = EXCLUDED.payload,
         payload_is_string = EXCLUDED.payload_is_string, stored_at = now()`,
      [client.id, packet.brokerId, encoded.fields, encoded.payload, encoded.payloadIsString],
    );
  }

  async getWill(client: ClientRef): Promise<StoredPacket | undefined> {
    const { rows } = await this.#pool.query<PacketRow>(`SELECT ${PACKET_COLUMNS} FROM mqtt_wills WHERE client_id = $1`, [client.id]);
    return rows[0] ? decodePacket(rows[0]) : undefined;
  }

  /**
   * Deletes the client's will. When the caller names the broker that held the connection
   * (aedes does, after publishing a will), only that broker's will goes: a newer connection
   * of the same client on another node keeps its own.
   */
  async delWill(client: ClientRef): Promise<StoredPacket | undefined> {
    const { rows } = await this.#pool.query<PacketRow>(
      `DELETE FROM mqtt_wills WHERE client_id = $1 AND ($2::text IS NULL OR broker_id = $2) RETURNING ${PACKET_COLUMNS}`,
      [client.id, client.brokerId ?? null],
    );
    return rows[0] ? decodePacket(rows[0]) : undefined;
  }

  /** The wills held by brokers other than the given live ones: aedes publishes those of dead nodes. */
  streamWill(brokers: Record<string, unknown> = {}): Readable {
    const pool = this.#pool;
    return Readable.from(
      (async function* () {
        let after = "";
        for (;;) {
          const { rows } = await pool.query<PacketRow & { client_id: string }>(
            `SELECT client_id, ${PACKET_COLUMNS} FROM mqtt_wills WHERE client_id > $1 AND NOT (broker_id = ANY($2::text[]))
             ORDER BY client_id LIMIT ${PAGE_SIZE}`,
            [after, Object.keys(brokers)],
          );
          for (const row of rows) yield decodePacket(row);
          if (rows.length < PAGE_SIZE) return;
          after = (rows[rows.length - 1] as { client_id: string }).client_id;
        }
      })(),
    );
  }

  /** Stops listening for other nodes' changes. The pool belongs to the caller and stays open. */
  async destroy(): Promise<void> {
    if (this.#destroyed) throw new Error("destroyed called twice!");
    this.#destroyed = true;
    const broker = this.#broker;
    if (broker) await new Promise<void>((resolve) => broker.unsubscribe(BROADCAST_TOPIC, this.#onBroadcast, () => resolve()));
    await Promise.allSettled([...this.#chains.values()]);
  }

  // ---- internals ---------------------------------------------------------------------

  #brokerId(): string {
    if (!this.#broker) throw new Error("the persistence is not set up: call setup(broker) first");
    return this.#broker.id;
  }

  /** A subscription change made here, committed: on this node's trie, then broadcast to the others. */
  async #change(change: BroadcastMessage): Promise<void> {
    this.#apply(change);
    await this.#broadcast(change);
  }

  /** A subscription change, made here or heard from another node, on the trie in use (and the one being built). */
  #apply(change: BroadcastMessage): void {
    applyChange(this.#trie, change);
    this.#changesDuringReload?.push(change);
  }

  #applyBroadcast(message: BroadcastMessage): void {
    if (!this.#broker || message.brokerId === this.#broker.id) return;
    this.#apply(message);
  }

  #broadcast(message: BroadcastMessage): Promise<void> {
    const broker = this.#broker;
    if (!broker) return Promise.resolve();
    return new Promise((resolve) => {
      // A failed broadcast must not fail the SUBSCRIBE: the change is committed, and other
      // nodes pick it up at their next start at the latest.
      broker.publish({ topic: BROADCAST_TOPIC, payload: Buffer.from(JSON.stringify(message)) }, () => resolve());
    });
  }

  /** Runs `work` after every earlier work with the same key on this node has settled. */
  #serialize<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.#chains.set(key, settled);
    void settled.then(() => {
      if (this.#chains.get(key) === settled) this.#chains.delete(key);
    });
    return next;
  }
}

/** The subscriptions of persistent sessions by filter, matched for every QoS 1/2 publish. */
function newTrie(): QlobberSub {
  return new QlobberSub({ separator: "/", wildcard_one: "+", wildcard_some: "#" });
}

function applyChange(trie: QlobberSub, change: BroadcastMessage): void {
  if (change.op === "remove") {
    for (const topic of change.topics) trie.remove(topic, { clientId: change.clientId, topic });
    return;
  }
  for (const sub of change.subs) {
    if (sub.qos > 0) trie.add(sub.topic, trieEntry(change.clientId, sub));
    else trie.remove(sub.topic, { clientId: change.clientId, topic: sub.topic });
  }
}

function trieEntry(
  clientId: string,
  sub: Subscription,
): { clientId: string; topic: string; qos: number; rh?: number; rap?: boolean; nl?: boolean } {
  return { clientId, topic: sub.topic, qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
}

/** The options stored beside topic and qos: rh, rap, nl and anything else the client sent, undefined kept. */
function encodeOptions(sub: Subscription): string {
  const { topic: _topic, qos: _qos, ...options } = sub;
  return encodePacket(options).fields;
}

function decodeOptions(options: unknown): Record<string, unknown> {
  return decodePacket({ packet: options, payload: null, payload_is_string: false });
}

function decodeOutgoing(row: PacketRow & { message_id: number | null }): StoredPacket {
  const packet = decodePacket(row);
  // message_id is the column of record: outgoingUpdate sets it without rewriting the packet.
  if (row.message_id !== null) packet.messageId = row.message_id;
  return packet;
}
