// The connected-clients registry in PostgreSQL (broker_clients): written by each node's
// ClientRegistry (broker/client-registry.ts), listed by GET /api/broker/clients.
import type pg from "pg";
import type { BrokerClient, BrokerClientsQuery } from "@fleetwatch/contracts";
import type { ClientActivity, ClientRegistryStore, RegisteredClient } from "../../broker/client-registry.ts";

interface ClientRow {
  client_id: string;
  kind: BrokerClient["kind"];
  device_id: string | null;
  operator_user_id: string | null;
  node_id: string;
  transport: BrokerClient["transport"];
  protocol_version: number;
  remote_address: string | null;
  keepalive: number;
  clean_session: boolean;
  connected_at: Date;
  subscriptions: BrokerClient["subscriptions"];
  messages_in: string;
  messages_out: string;
}

const COLUMNS =
  "client_id, kind, device_id, operator_user_id, node_id, transport, protocol_version, remote_address, keepalive, clean_session, connected_at, subscriptions, messages_in, messages_out";

function toBrokerClient(row: ClientRow): BrokerClient {
  return {
    clientId: row.client_id,
    kind: row.kind,
    deviceId: row.device_id,
    operatorUserId: row.operator_user_id,
    nodeId: row.node_id,
    transport: row.transport,
    protocolVersion: row.protocol_version as BrokerClient["protocolVersion"],
    remoteAddress: row.remote_address,
    keepalive: row.keepalive,
    cleanSession: row.clean_session,
    connectedAt: row.connected_at.toISOString(),
    subscriptions: row.subscriptions,
    messagesIn: Number(row.messages_in),
    messagesOut: Number(row.messages_out),
  };
}

/** A LIKE pattern matching the text as a prefix, its own %, _ and \ taken literally. */
export function prefixPattern(text: string): string {
  return `${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * The filters as SQL. Only the filters given become conditions, so that the planner sees a
 * prefix search as a range of broker_clients_pkey (client_id is COLLATE "C") and a node as a
 * range of the node index: pages come from an index in client id order, never a sort of all rows.
 */
export function clientFilter(query: BrokerClientsQuery): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(condition(`$${values.length}`));
  };
  if (query.search !== undefined) add((p) => `client_id LIKE ${p}`, prefixPattern(query.search));
  if (query.kind !== undefined) add((p) => `kind = ${p}`, query.kind);
  if (query.transport !== undefined) add((p) => `transport = ${p}`, query.transport);
  if (query.nodeId !== undefined) add((p) => `node_id = ${p}`, query.nodeId);
  if (query.protocolVersion !== undefined) add((p) => `protocol_version = ${p}`, query.protocolVersion);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "", values };
}

/** The page query of a listing (exported for the test that reads its plan). */
export function clientPageQuery(query: BrokerClientsQuery, limit: number, offset: number): { text: string; values: unknown[] } {
  const { where, values } = clientFilter(query);
  return {
    text: `SELECT ${COLUMNS} FROM broker_clients ${where} ORDER BY client_id LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
    values: [...values, limit, offset],
  };
}

export class BrokerClientsRepository implements ClientRegistryStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(query: BrokerClientsQuery, limit: number, offset: number): Promise<{ items: BrokerClient[]; total: number; nodes: string[] }> {
    const page = clientPageQuery(query, limit, offset);
    const { where, values } = clientFilter(query);
    const [rows, count, nodes] = await Promise.all([
      this.pool.query<ClientRow>(page.text, page.values),
      this.pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM broker_clients ${where}`, values),
      // The live nodes (a handful of rows), not a DISTINCT over every client.
      this.pool.query<{ id: string }>("SELECT id FROM server_nodes ORDER BY id"),
    ]);
    return { items: rows.rows.map(toBrokerClient), total: count.rows[0]?.total ?? 0, nodes: nodes.rows.map((row) => row.id) };
  }

  async find(clientId: string): Promise<BrokerClient | null> {
    const { rows } = await this.pool.query<ClientRow>(`SELECT ${COLUMNS} FROM broker_clients WHERE client_id = $1`, [clientId]);
    return rows[0] ? toBrokerClient(rows[0]) : null;
  }

  async upsert(clients: RegisteredClient[]): Promise<void> {
    if (clients.length === 0) return;
    const column = <K extends keyof RegisteredClient>(key: K) => clients.map((client) => client[key]);
    await this.pool.query(
      `INSERT INTO broker_clients (client_id, connection_id, node_id, kind, device_id, operator_user_id, transport, protocol_version,
         remote_address, keepalive, clean_session, connected_at, subscriptions, messages_in, messages_out)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int2[],
         $9::text[], $10::int4[], $11::bool[], $12::timestamptz[], $13::jsonb[], $14::int8[], $15::int8[])
       ON CONFLICT (client_id) DO UPDATE SET connection_id = EXCLUDED.connection_id, node_id = EXCLUDED.node_id, kind = EXCLUDED.kind,
         device_id = EXCLUDED.device_id, operator_user_id = EXCLUDED.operator_user_id, transport = EXCLUDED.transport,
         protocol_version = EXCLUDED.protocol_version, remote_address = EXCLUDED.remote_address, keepalive = EXCLUDED.keepalive,
         clean_session = EXCLUDED.clean_session, connected_at = EXCLUDED.connected_at, subscriptions = EXCLUDED.subscriptions,
         messages_in = EXCLUDED.messages_in, messages_out = EXCLUDED.messages_out`,
      [
        column("clientId"),
        column("connectionId"),
        column("nodeId"),
        column("kind"),
        column("deviceId"),
        column("operatorUserId"),
        column("transport"),
        column("protocolVersion"),
        column("remoteAddress"),
        column("keepalive"),
        column("cleanSession"),
        column("connectedAt"),
        clients.map((client) => JSON.stringify(client.subscriptions)),
        column("messagesIn"),
        column("messagesOut"),
      ],
    );
  }

  async remove(connections: { clientId: string; connectionId: string }[]): Promise<void> {
    if (connections.length === 0) return;
    await this.pool.query(
      `DELETE FROM broker_clients c USING unnest($1::text[], $2::text[]) AS gone(client_id, connection_id)
       WHERE c.client_id = gone.client_id AND c.connection_id = gone.connection_id`,
      [connections.map((c) => c.clientId), connections.map((c) => c.connectionId)],
    );
  }

  async updateActivity(clients: ClientActivity[]): Promise<Set<string>> {
    if (clients.length === 0) return new Set();
    const { rows } = await this.pool.query<{ connection_id: string }>(
      `UPDATE broker_clients c SET subscriptions = u.subscriptions, messages_in = u.messages_in, messages_out = u.messages_out
       FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::int8[], $5::int8[]) AS u(client_id, connection_id, subscriptions, messages_in, messages_out)
       WHERE c.client_id = u.client_id AND c.connection_id = u.connection_id
       RETURNING c.connection_id`,
      [
        clients.map((c) => c.clientId),
        clients.map((c) => c.connectionId),
        clients.map((c) => JSON.stringify(c.subscriptions)),
        clients.map((c) => c.messagesIn),
        clients.map((c) => c.messagesOut),
      ],
    );
    return new Set(rows.map((row) => row.connection_id));
  }

  async countNode(nodeId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>("SELECT count(*)::int AS count FROM broker_clients WHERE node_id = $1", [
      nodeId,
    ]);
    return rows[0]?.count ?? 0;
  }

  async clearNode(nodeId: string): Promise<void> {
    await this.pool.query("DELETE FROM broker_clients WHERE node_id = $1", [nodeId]);
  }

  async sweepDeadNodes(staleMs: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM broker_clients c WHERE NOT EXISTS (
         SELECT 1 FROM server_nodes n WHERE n.id = c.node_id AND n.heartbeat_at >= now() - make_interval(secs => $1::float8 / 1000))`,
      [staleMs],
    );
    return rowCount ?? 0;
  }

  async discardQueuedMessages(clientId: string): Promise<void> {
    await this.pool.query("DELETE FROM mqtt_outgoing WHERE client_id = $1", [clientId]);
  }
}
