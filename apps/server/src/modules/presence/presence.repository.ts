// Presence in PostgreSQL: devices.online and last_seen_at, the connection behind them
// (device_presence), the presence event history, and the heartbeat of each server node.
import type pg from "pg";
import type { PresenceEvent, PresenceReason } from "@fleetwatch/contracts";
import { withTransaction } from "../../db/transaction.ts";

interface EventRow {
  device_id: string;
  online: boolean;
  reason: PresenceReason;
  at: Date;
}

export function toPresenceEvent(row: EventRow): PresenceEvent {
  return { deviceId: row.device_id, online: row.online, reason: row.reason, at: row.at.toISOString() };
}

export type ConnectResult =
  /** The client id is not a registered device: presence does not apply. */
  | { device: false }
  /** `event` is null when the device was already online (a takeover) or its offline event was still pending (a coalesced blip). */
  | { device: true; event: PresenceEvent | null };

export class PresenceRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Marks a registered device online through the given connection. */
  connected(deviceId: string, connectionId: string, nodeId: string): Promise<ConnectResult> {
    return withTransaction(this.pool, async (tx) => {
      // The device row lock serialises every presence change of this device across nodes.
      const device = await tx.query("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", [deviceId]);
      if (device.rowCount === 0) return { device: false };
      const previous = await tx.query<{ online: boolean; offline_pending: boolean }>(
        "SELECT online, offline_pending FROM device_presence WHERE device_id = $1",
        [deviceId],
      );
      const before = previous.rows[0];
      await tx.query("UPDATE devices SET online = true, last_seen_at = now() WHERE id = $1", [deviceId]);
      await tx.query(
        `INSERT INTO device_presence (device_id, online, connection_id, node_id, changed_at) VALUES ($1, true, $2, $3, now())
         ON CONFLICT (device_id) DO UPDATE SET online = true, connection_id = EXCLUDED.connection_id, node_id = EXCLUDED.node_id,
           changed_at = CASE WHEN device_presence.online THEN device_presence.changed_at ELSE now() END,
           offline_reason = NULL, offline_unexpected = false, offline_pending = false, offline_hold_until = NULL,
           flaps = device_presence.flaps + (CASE WHEN device_presence.offline_pending THEN 1 ELSE 0 END)`,
        [deviceId, connectionId, nodeId],
      );
      if (before && (before.online || before.offline_pending)) return { device: true, event: null };
      const event = await tx.query<EventRow>(
        "INSERT INTO presence_events (device_id, online, reason, at) VALUES ($1, true, 'connected', now()) RETURNING device_id, online, reason, at",
        [deviceId],
      );
      return { device: true, event: toPresenceEvent(event.rows[0] as EventRow) };
    });
  }

  /**
   * Marks the device offline if `connectionId` is still its current connection (a newer one,
   * on any node, supersedes it). The offline event stays pending for the grace period, and
   * for `holdSeconds` (an MQTT 5 will delay) if longer. Returns whether the device went offline.
   */
  disconnected(deviceId: string, connectionId: string, reason: PresenceReason, unexpected: boolean, holdSeconds = 0): Promise<boolean> {
    return withTransaction(this.pool, async (tx) => {
      await tx.query("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", [deviceId]);
      const current = await tx.query<{ connection_id: string; online: boolean }>(
        "SELECT connection_id, online FROM device_presence WHERE device_id = $1",
        [deviceId],
      );
      const row = current.rows[0];
      if (!row || row.connection_id !== connectionId || !row.online) return false;
      await tx.query("UPDATE devices SET online = false, last_seen_at = now() WHERE id = $1", [deviceId]);
      await tx.query(
        `UPDATE device_presence SET online = false, changed_at = now(), offline_reason = $2, offline_unexpected = $3, offline_pending = true,
           offline_hold_until = CASE WHEN $4::float8 > 0 THEN now() + make_interval(secs => $4::float8) END
         WHERE device_id = $1`,
        [deviceId, reason, unexpected, holdSeconds],
      );
      return true;
    });
  }

  /**
   * Records the offline events whose grace period (and hold: a will delay) has passed, once,
   * whichever node gets there first.
   */
  async confirmOffline(graceMs: number): Promise<{ event: PresenceEvent; unexpected: boolean }[]> {
    const { rows } = await this.pool.query<EventRow & { unexpected: boolean }>(
      `WITH confirmed AS (
         UPDATE device_presence SET offline_pending = false
         WHERE offline_pending AND NOT online
           -- A keepalive timeout is already 1.5 × keepalive of silence: no further grace.
           AND changed_at <= now() - make_interval(secs => CASE WHEN offline_reason = 'keepalive timeout' THEN 0 ELSE $1::float8 / 1000 END)
           -- An MQTT 5 device whose will is delayed is not gone until its will is due [MQTT-3.1.3-9].
           AND (offline_hold_until IS NULL OR offline_hold_until <= now())
         RETURNING device_id, offline_reason, offline_unexpected, changed_at
       ), recorded AS (
         INSERT INTO presence_events (device_id, online, reason, at)
         SELECT device_id, false, offline_reason, changed_at FROM confirmed
         RETURNING device_id, online, reason, at
       )
       SELECT r.device_id, r.online, r.reason, r.at, c.offline_unexpected AS unexpected
       FROM recorded r JOIN confirmed c USING (device_id)`,
      [graceMs],
    );
    return rows.map((row) => ({ event: toPresenceEvent(row), unexpected: row.unexpected }));
  }

  /** Writes this node's heartbeat. Returns true when the row had to be created (a first start, or others declared the node dead). */
  async heartbeat(nodeId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ created: boolean }>(
      `INSERT INTO server_nodes (id) VALUES ($1)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
       RETURNING (xmax = 0) AS created`,
      [nodeId],
    );
    return rows[0]?.created ?? false;
  }

  async removeNode(nodeId: string): Promise<void> {
    await this.pool.query("DELETE FROM server_nodes WHERE id = $1", [nodeId]);
  }

  /**
   * Devices held by a node whose heartbeat stopped (it crashed) or that is gone lost their
   * connection: they go offline as an unexpected loss, pending like any other.
   */
  async releaseDeadNodes(staleMs: number): Promise<string[]> {
    return withTransaction(this.pool, async (tx) => {
      const dead = await tx.query<{ id: string }>(
        "DELETE FROM server_nodes WHERE heartbeat_at < now() - make_interval(secs => $1::float8 / 1000) RETURNING id",
        [staleMs],
      );
      const lost = await tx.query<{ device_id: string }>(
        `UPDATE device_presence p SET online = false, changed_at = now(), offline_reason = 'connection lost',
           offline_unexpected = true, offline_pending = true
         WHERE p.online AND (p.node_id = ANY($1::text[]) OR NOT EXISTS (SELECT 1 FROM server_nodes n WHERE n.id = p.node_id))
         RETURNING device_id`,
        [dead.rows.map((row) => row.id)],
      );
      const ids = lost.rows.map((row) => row.device_id);
      if (ids.length > 0) await tx.query("UPDATE devices SET online = false WHERE id = ANY($1::text[])", [ids]);
      return ids;
    });
  }

  /** One UPDATE for every device seen since the last flush. */
  async touch(deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.pool.query("UPDATE devices SET last_seen_at = now() WHERE id = ANY($1::text[])", [deviceIds]);
  }

  /**
   * Null for an unknown device. Without `range`: its latest events. With it: the latest events
   * inside [from, to), and the last one before `from` (the state the range starts in).
   */
  async history(
    deviceId: string,
    limit: number,
    range?: { from: Date; to: Date },
  ): Promise<{ online: boolean; events: PresenceEvent[]; before?: PresenceEvent | null } | null> {
    const device = await this.pool.query<{ online: boolean }>("SELECT online FROM devices WHERE id = $1", [deviceId]);
    if (!device.rows[0]) return null;
    if (!range) {
      const { rows } = await this.pool.query<EventRow>(
        "SELECT device_id, online, reason, at FROM presence_events WHERE device_id = $1 ORDER BY id DESC LIMIT $2",
        [deviceId, limit],
      );
      return { online: device.rows[0].online, events: rows.map(toPresenceEvent) };
    }
    const [inside, before] = await Promise.all([
      this.pool.query<EventRow>(
        `SELECT device_id, online, reason, at FROM presence_events
          WHERE device_id = $1 AND at >= $2 AND at < $3 ORDER BY at DESC, id DESC LIMIT $4`,
        [deviceId, range.from, range.to, limit],
      ),
      this.pool.query<EventRow>(
        "SELECT device_id, online, reason, at FROM presence_events WHERE device_id = $1 AND at < $2 ORDER BY at DESC, id DESC LIMIT 1",
        [deviceId, range.from],
      ),
    ]);
    return {
      online: device.rows[0].online,
      events: inside.rows.map(toPresenceEvent),
      before: before.rows[0] ? toPresenceEvent(before.rows[0]) : null,
    };
  }
}
