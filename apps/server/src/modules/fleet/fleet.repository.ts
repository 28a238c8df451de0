import type pg from "pg";
import type { FleetSummary } from "@fleetwatch/contracts";

export class FleetRepository {
  constructor(private readonly pool: pg.Pool) {}

  async summary(): Promise<FleetSummary> {
    const { rows } = await this.pool.query<{
      total: number;
      online: number;
      offline: number;
      never_seen: number;
      active: number;
      acknowledged: number;
    }>(
      `SELECT d.total, d.online, d.offline, d.never_seen, a.active, a.acknowledged
       FROM (SELECT count(*)::int AS total,
                    (count(*) FILTER (WHERE online))::int AS online,
                    (count(*) FILTER (WHERE NOT online AND last_seen_at IS NOT NULL))::int AS offline,
                    (count(*) FILTER (WHERE NOT online AND last_seen_at IS NULL))::int AS never_seen
             FROM devices) d,
            (SELECT (count(*) FILTER (WHERE state = 'active'))::int AS active,
                    (count(*) FILTER (WHERE state = 'acknowledged'))::int AS acknowledged
             FROM alerts WHERE state <> 'resolved') a`,
    );
    const row = rows[0] ?? { total: 0, online: 0, offline: 0, never_seen: 0, active: 0, acknowledged: 0 };
    return {
      devices: { total: row.total, online: row.online, offline: row.offline, neverSeen: row.never_seen },
      alerts: { active: row.active, acknowledged: row.acknowledged },
    };
  }
}
