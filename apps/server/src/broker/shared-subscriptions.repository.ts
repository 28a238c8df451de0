// The members of MQTT shared subscriptions (shared_subscription_members): the only code that
// reads or writes them. Plain pg, like the broker's other persistence.
import type pg from "pg";

export interface SharedGroupKey {
  group: string;
  filter: string;
}

export interface StoredMember extends SharedGroupKey {
  clientId: string;
  qos: 0 | 1 | 2;
  persistent: boolean;
  /** Connected now, to a node whose heartbeat is current. */
  online: boolean;
}

export interface Connection {
  clientId: string;
  nodeId: string;
  connectionId: string;
}

/** A node whose heartbeat is this old is dead (see presence), and its members are offline. */
const MEMBER_COLUMNS = `m.group_name, m.filter, m.client_id, m.qos, m.persistent,
  (m.node_id IS NOT NULL AND EXISTS (SELECT 1 FROM server_nodes n WHERE n.id = m.node_id)) AS online`;

interface MemberRow {
  group_name: string;
  filter: string;
  client_id: string;
  qos: number;
  persistent: boolean;
  online: boolean;
}

const toMember = (row: MemberRow): StoredMember => ({
  group: row.group_name,
  filter: row.filter,
  clientId: row.client_id,
  qos: Math.min(2, Math.max(0, row.qos)) as 0 | 1 | 2,
  persistent: row.persistent,
  online: row.online,
});

export class SharedSubscriptionsRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Every member, in the order they joined (the round robin's order). */
  async all(): Promise<StoredMember[]> {
    const { rows } = await this.pool.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM shared_subscription_members m ORDER BY m.joined_at, m.client_id`,
    );
    return rows.map(toMember);
  }

  async group({ group, filter }: SharedGroupKey): Promise<StoredMember[]> {
    const { rows } = await this.pool.query<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM shared_subscription_members m WHERE m.group_name = $1 AND m.filter = $2 ORDER BY m.joined_at, m.client_id`,
      [group, filter],
    );
    return rows.map(toMember);
  }

  /** The connection joined the group, or subscribed again with other options [MQTT-3.8.4-3], or its session was restored. */
  async join(key: SharedGroupKey, member: { qos: number; persistent: boolean }, connection: Connection): Promise<void> {
    await this.pool.query(
      `INSERT INTO shared_subscription_members (group_name, filter, client_id, qos, persistent, node_id, connection_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (group_name, filter, client_id) DO UPDATE
         SET qos = EXCLUDED.qos, persistent = EXCLUDED.persistent, node_id = EXCLUDED.node_id, connection_id = EXCLUDED.connection_id`,
      [key.group, key.filter, connection.clientId, member.qos, member.persistent, connection.nodeId, connection.connectionId],
    );
  }

  /** UNSUBSCRIBE: the client leaves the group. Returns whether it was a member. */
  async leave(key: SharedGroupKey, clientId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      "DELETE FROM shared_subscription_members WHERE group_name = $1 AND filter = $2 AND client_id = $3",
      [key.group, key.filter, clientId],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * The connection ended: a clean session's memberships end with it, a persistent session's
   * stay, offline. Only this connection's rows: a session taken over by a newer connection
   * (on any node) keeps what that connection holds [MQTT-3.1.4-3].
   */
  async disconnected(connection: Connection, persistent: boolean): Promise<SharedGroupKey[]> {
    const { rows } = persistent
      ? await this.pool.query<{ group_name: string; filter: string }>(
          `UPDATE shared_subscription_members SET node_id = NULL, connection_id = NULL
            WHERE client_id = $1 AND node_id = $2 AND connection_id = $3 RETURNING group_name, filter`,
          [connection.clientId, connection.nodeId, connection.connectionId],
        )
      : await this.pool.query<{ group_name: string; filter: string }>(
          `DELETE FROM shared_subscription_members
            WHERE client_id = $1 AND node_id = $2 AND connection_id = $3 RETURNING group_name, filter`,
          [connection.clientId, connection.nodeId, connection.connectionId],
        );
    return rows.map((row) => ({ group: row.group_name, filter: row.filter }));
  }

  /** The client's session is discarded (a clean start, or it expired): all its memberships end [MQTT-3.1.2-4]. */
  async sessionDiscarded(clientId: string): Promise<SharedGroupKey[]> {
    const { rows } = await this.pool.query<{ group_name: string; filter: string }>(
      "DELETE FROM shared_subscription_members WHERE client_id = $1 RETURNING group_name, filter",
      [clientId],
    );
    return rows.map((row) => ({ group: row.group_name, filter: row.filter }));
  }
}
