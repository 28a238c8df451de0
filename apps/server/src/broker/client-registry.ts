// The registry of connected MQTT clients, shared by every node through PostgreSQL
// (broker_clients): GET /api/broker/clients lists the clients of the whole deployment from any
// node, and POST .../disconnect reaches the node that holds one through the control channel.
//
// Each node writes only its own clients. Connects and disconnects are written within
// CONNECT_BATCH_MS, in one statement per batch (a connect storm costs a few statements, not one
// per client); counters and subscription changes every PRESENCE_FLUSH_MS, in one UPDATE for all
// the clients that changed. A node that dies leaves rows behind: they are deleted by the live
// nodes' sweep once its heartbeat (server_nodes, written by presence) is stale, and a restarting
// node deletes the rows of its id before it accepts a client.
//
// Per-node state: the live connections of this process (counters since their CONNECT, granted
// subscriptions). It dies with the process, whose rows the sweep then removes.
import { randomUUID } from "node:crypto";
import type { Client, Subscription } from "aedes";
import { controlTopic, type BrokerClientSubscription } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import { BackgroundWork } from "../lib/background-work.ts";
import type { Broker } from "./broker.ts";
import { disconnectForAdministrativeAction, emitControl, localClient, onControl } from "./control.ts";
import { remoteAddressOf } from "./hooks.ts";
import { principalOf } from "./identity.ts";
import { connectionFacts, type TransportKind } from "./connection-facts.ts";

/** How long connects and disconnects wait to be written together. */
const CONNECT_BATCH_MS = 50;

export type SessionChoice = "keep" | "clear";

/** One connected client as the registry stores it. */
export interface RegisteredClient {
  clientId: string;
  connectionId: string;
  nodeId: string;
  kind: "device" | "operator" | "anonymous";
  deviceId: string | null;
  operatorUserId: string | null;
  transport: TransportKind;
  protocolVersion: 3 | 4 | 5;
  remoteAddress: string | null;
  keepalive: number;
  cleanSession: boolean;
  connectedAt: Date;
  subscriptions: BrokerClientSubscription[];
  messagesIn: number;
  messagesOut: number;
}

export type ClientActivity = Pick<RegisteredClient, "clientId" | "connectionId" | "subscriptions" | "messagesIn" | "messagesOut">;

/** The registry's table (modules/broker-clients/broker-clients.repository.ts). */
export interface ClientRegistryStore {
  /** Inserts the clients, replacing a row of the same client id (a takeover [MQTT-3.1.4-2], on any node). */
  upsert(clients: RegisteredClient[]): Promise<void>;
  /** Deletes these connections' rows; a newer connection of the same client id is left alone. */
  remove(connections: { clientId: string; connectionId: string }[]): Promise<void>;
  /** Writes counters and subscriptions; returns the connection ids whose row was found. */
  updateActivity(clients: ClientActivity[]): Promise<Set<string>>;
  countNode(nodeId: string): Promise<number>;
  clearNode(nodeId: string): Promise<void>;
  /** Deletes the rows of nodes whose heartbeat is older than `staleMs`, or gone; returns how many. */
  sweepDeadNodes(staleMs: number): Promise<number>;
  /** Discards a session's queued and in-flight messages (mqtt_outgoing, mqtt_incoming). */
  discardQueuedMessages(clientId: string): Promise<void>;
}

/** The session state aedes' persistence keeps (aedes-persistence's public interface). */
interface SessionPersistence {
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
  cleanIncoming?(client: { id: string }): Promise<unknown>;
}

/** Asks every node to close this client's connection; the node that holds it acts. */
export function requestClientDisconnect(broker: Broker, clientId: string, session: SessionChoice): Promise<void> {
  return emitControl(broker, controlTopic.disconnectClient, JSON.stringify({ clientId, session }));
}

interface Entry {
  client: Client;
  row: RegisteredClient;
  subscriptions: Map<string, number>;
  messagesIn: number;
  /** What the table holds, to write only what changed. */
  written: { messagesIn: number; messagesOut: number; subscriptions: string };
}

export interface ClientRegistryOptions {
  flushMs: number;
  sweepMs: number;
  /** A node whose heartbeat is older than this is dead (presence's nodeStaleMs). */
  nodeStaleMs: number;
}

export class ClientRegistry {
  readonly #entries = new Map<Client, Entry>();
  #pendingInserts = new Set<Entry>();
  #pendingRemovals: { clientId: string; connectionId: string }[] = [];
  #batchScheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  #broker: Broker | undefined;
  #stopControl: (() => void) | undefined;
  readonly #background = new BackgroundWork((error) => this.logger.warn({ err: error }, "client registry work failed"));

  constructor(
    private readonly store: ClientRegistryStore,
    private readonly logger: Logger,
    private readonly options: ClientRegistryOptions,
  ) {}

  /** Follows the broker's clients from now on. Call before the MQTT listeners start. */
  async start(broker: Broker): Promise<void> {
    this.#broker = broker;
    // This node id's rows from an earlier run are stale: none of its connections survived it.
    await this.store.clearNode(broker.id);
    // clientReady: after aedes restored a persistent session's subscriptions [MQTT-3.1.2-4],
    // which it does without 'subscribe' events.
    broker.on("clientReady", (client) => this.#onReady(client));
    broker.on("clientDisconnect", (client) => this.#onGone(client));
    broker.on("publish", (_packet, client) => {
      const entry = client && this.#entries.get(client);
      if (entry) entry.messagesIn += 1;
    });
    broker.on("subscribe", (subscriptions, client) => {
      const entry = this.#entries.get(client);
      if (!entry) return;
      // 128 (0x80) is a refused filter [MQTT-3.9.3-2]: not a subscription.
      for (const { topic, qos } of subscriptions) if ((qos as number) !== 128) entry.subscriptions.set(topic, qos);
    });
    broker.on("unsubscribe", (topics, client) => {
      const entry = this.#entries.get(client);
      if (entry) for (const topic of topics) entry.subscriptions.delete(topic);
    });
    this.#stopControl = await onControl(broker, controlTopic.disconnectClient, (payload) => this.#onDisconnectRequest(payload));
    this.#background.every(this.options.flushMs, () => this.flush());
    this.#background.every(this.options.sweepMs, () => this.sweep());
  }

  /** Writes pending connects and disconnects, then the counters and subscriptions that changed. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing
      .then(() => this.#write())
      .catch((error: unknown) => {
        this.logger.warn({ err: error }, "could not write the connected clients; retrying at the next flush");
      });
    return this.#flushing;
  }

  /** Deletes the clients of nodes that stopped sending heartbeats. */
  async sweep(): Promise<void> {
    try {
      const swept = await this.store.sweepDeadNodes(this.options.nodeStaleMs);
      if (swept > 0) this.logger.warn({ clients: swept }, "removed the MQTT clients of a server node that stopped sending heartbeats");
    } catch (error) {
      this.logger.warn({ err: error }, "client registry sweep failed");
    }
  }

  /** Call after the broker closed (its clients' disconnects are written), before the database pool closes. */
  async stop(): Promise<void> {
    this.#background.stop();
    this.#stopControl?.();
    await new Promise((resolve) => setImmediate(resolve));
    await this.flush();
    if (this.#broker) await this.store.clearNode(this.#broker.id).catch(() => undefined);
  }

  #onReady(client: Client): void {
    const broker = this.#broker;
    if (!broker || client.closed) return;
    const principal = principalOf(client);
    // Granted subscriptions restored from a persistent session live on the client only.
    const restored = (client as unknown as { subscriptions?: Record<string, Subscription> }).subscriptions ?? {};
    const subscriptions = new Map(Object.entries(restored).map(([topic, subscription]) => [topic, subscription.qos]));
    const version = client.version;
    const row: RegisteredClient = {
      clientId: client.id,
      connectionId: randomUUID(),
      nodeId: broker.id,
      kind: principal.kind,
      deviceId: principal.kind === "device" ? principal.deviceId : null,
      operatorUserId: principal.kind === "operator" ? principal.userId : null,
      transport: connectionFacts(client).transport,
      protocolVersion: version === 3 || version === 5 ? version : 4,
      remoteAddress: remoteAddressOf(client),
      keepalive: connectionFacts(client).keepalive,
      cleanSession: client.clean,
      connectedAt: new Date(),
      subscriptions: [],
      messagesIn: 0,
      messagesOut: 0,
    };
    const entry: Entry = { client, row, subscriptions, messagesIn: 0, written: { messagesIn: 0, messagesOut: 0, subscriptions: "" } };
    this.#entries.set(client, entry);
    this.#pendingInserts.add(entry);
    this.#scheduleBatch();
  }

  #onGone(client: Client): void {
    const entry = this.#entries.get(client);
    if (!entry) return;
    this.#entries.delete(client);
    // Never written: nothing to delete.
    if (!this.#pendingInserts.delete(entry))
      this.#pendingRemovals.push({ clientId: entry.row.clientId, connectionId: entry.row.connectionId });
    this.#scheduleBatch();
  }

  #scheduleBatch(): void {
    if (this.#batchScheduled) return;
    this.#batchScheduled = true;
    this.#background.after(CONNECT_BATCH_MS, async () => {
      this.#batchScheduled = false;
      await this.flush();
    });
  }

  #snapshot(entry: Entry): RegisteredClient {
    return {
      ...entry.row,
      subscriptions: [...entry.subscriptions].map(([topic, qos]) => ({ topic, qos })),
      messagesIn: entry.messagesIn,
      messagesOut: connectionFacts(entry.client).sent,
    };
  }

  #markWritten(entry: Entry, snapshot: RegisteredClient): void {
    entry.written = {
      messagesIn: snapshot.messagesIn,
      messagesOut: snapshot.messagesOut,
      subscriptions: JSON.stringify(snapshot.subscriptions),
    };
  }

  async #write(): Promise<void> {
    const broker = this.#broker;
    if (!broker) return;
    // Removals first: a takeover's new connection, written in the same batch, must survive them.
    const removals = this.#pendingRemovals;
    this.#pendingRemovals = [];
    try {
      await this.store.remove(removals);
    } catch (error) {
      this.#pendingRemovals.unshift(...removals);
      throw error;
    }
    const inserts = [...this.#pendingInserts].filter((entry) => this.#entries.get(entry.client) === entry);
    this.#pendingInserts = new Set();
    const inserted = inserts.map((entry) => this.#snapshot(entry));
    try {
      await this.store.upsert(inserted);
    } catch (error) {
      for (const entry of inserts) this.#pendingInserts.add(entry);
      throw error;
    }
    inserts.forEach((entry, index) => this.#markWritten(entry, inserted[index]!));

    const insertedSet = new Set(inserts);
    const changed: { entry: Entry; snapshot: RegisteredClient }[] = [];
    for (const entry of this.#entries.values()) {
      if (insertedSet.has(entry) || this.#pendingInserts.has(entry)) continue;
      const snapshot = this.#snapshot(entry);
      const { written } = entry;
      if (
        snapshot.messagesIn !== written.messagesIn ||
        snapshot.messagesOut !== written.messagesOut ||
        JSON.stringify(snapshot.subscriptions) !== written.subscriptions
      )
        changed.push({ entry, snapshot });
    }
    if (changed.length > 0) {
      const found = await this.store.updateActivity(changed.map(({ snapshot }) => snapshot));
      // A row missing here was swept while this node looked dead (a long pause): written again.
      const missing = changed.filter(({ snapshot }) => !found.has(snapshot.connectionId));
      if (missing.length > 0) await this.store.upsert(missing.map(({ snapshot }) => snapshot));
      for (const { entry, snapshot } of changed) this.#markWritten(entry, snapshot);
    }
    // Idle clients swept meanwhile show up as a shortfall of this node's rows.
    const written = [...this.#entries.values()].filter((entry) => !this.#pendingInserts.has(entry));
    if (written.length > 0 && (await this.store.countNode(broker.id)) < written.length) {
      this.logger.warn("this node's connected clients had been swept (its heartbeat lapsed); writing them again");
      await this.store.upsert(written.map((entry) => this.#snapshot(entry)));
    }
  }

  #onDisconnectRequest(payload: string): void {
    let request: { clientId?: unknown; session?: unknown };
    try {
      request = JSON.parse(payload) as typeof request;
    } catch {
      return;
    }
    const { clientId, session } = request;
    if (typeof clientId !== "string" || (session !== "keep" && session !== "clear")) return;
    const broker = this.#broker;
    const client = broker && localClient(broker, clientId);
    if (!broker || !client || client.closed) return;
    this.#background.serialize(`disconnect:${clientId}`, () => this.#disconnect(broker, client, session));
  }

  async #disconnect(broker: Broker, client: Client, session: SessionChoice): Promise<void> {
    const persistence = (broker as unknown as { persistence: SessionPersistence }).persistence;
    this.logger.info({ clientId: client.id, session }, "closing an MQTT client's connection at an administrator's request");
    // Subscriptions go first, so no message is queued for the session while it closes.
    if (session === "clear") await persistence.cleanSubscriptions(client);
    // An MQTT 5 client is told why: DISCONNECT 0x98 Administrative action [MQTT-3.14.2-1]
    // (section 3.14.2.1); an MQTT 3.1/3.1.1 client has no server DISCONNECT and is just closed.
    // The will is published either way: the client did not send DISCONNECT [MQTT-3.1.2-8].
    await new Promise<void>((resolve) => disconnectForAdministrativeAction(client, resolve));
    if (session === "keep") return;
    // A clean session's state ends with it [MQTT-3.1.2-6]: subscriptions (again: one might have
    // raced the close), queued and in-flight QoS 1/2 messages, and the inbound QoS 2 state.
    await persistence.cleanSubscriptions({ id: client.id });
    await persistence.cleanIncoming?.({ id: client.id });
    await this.store.discardQueuedMessages(client.id);
  }
}
