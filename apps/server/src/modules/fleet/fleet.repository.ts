import type pg from "pg";
import type { FleetSummary, PulseAlert, PulseDevice } from "@fleetwatch/contracts";

/** Rows of one aggregate over aligned buckets: `bucket` is the bucket's start. */
export interface BucketCount {
  bucket: Date;
  count: number;
}

interface DeviceRow {
  device_id: string;
  name: string;
  online: boolean;
  last_seen_at: Date | null;
  messages: number;
}

const toDevice = (row: DeviceRow): PulseDevice => ({
  deviceId: row.device_id,
  name: row.name,
  online: row.online,
  lastSeenAt: row.last_seen_at?.toISOString() ?? null,
  messages: row.messages,
});

/**
 * How the pulse stays cheap at 10,000 devices and 10M readings: no aggregate reads the
 * messages log itself. The message rate and the per-device counts come from two rollups that
 * triggers on messages keep in the same statement as the messages they count (migration
 * 20261203130000_message_rollups): message_rate (per minute, a row per writing connection)
 * and device_message_counts (per device per DEVICE_COUNT_BUCKET_MS). The last hour is then
 * 60 × a few rate rows and at most 12 × the active devices' count rows, where it was every
 * message of the hour (600,000 in the bench). Presence events and alerts are read through
 * an index on their time column (migration 20261201120000_fleet_pulse_indexes), so they
 * cost in proportion to the last day's rows. The device lists walk the devices(last_seen_at)
 * index and alerts(state, id) from their ends. Measured by `pnpm bench:web`
 * (e2e/budgets/measure.ts) with 10,000 devices and 10M readings.
 */
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

  /** Messages per epoch-aligned bucket of `bucketMs` (whole minutes: the rollup's grain) in [from, to). */
  async messageCounts(from: Date, to: Date, bucketMs: number): Promise<BucketCount[]> {
    const { rows } = await this.pool.query<BucketCount>(
      `SELECT date_bin(make_interval(secs => $3::float8 / 1000), minute, TIMESTAMPTZ 'epoch') AS bucket, sum(messages)::int AS count
         FROM message_rate WHERE minute >= $1 AND minute < $2
        GROUP BY bucket`,
      [from, to, bucketMs],
    );
    return rows;
  }

  /**
   * Devices online now, and the net change of the online count (connections minus
   * disconnections) per bucket since `from`, in one snapshot. A disconnection still inside
   * its grace period (no event yet, but devices.online already false) counts at its time.
   */
  async onlineChanges(from: Date, bucketMs: number): Promise<{ now: number; changes: BucketCount[] }> {
    const { rows } = await this.pool.query<{ now: number; bucket: Date | null; count: number | null }>(
      `SELECT n.now, c.bucket, c.count
         FROM (SELECT count(*)::int AS now FROM devices WHERE online) n
         LEFT JOIN (
           SELECT date_bin(make_interval(secs => $2::float8 / 1000), at, TIMESTAMPTZ 'epoch') AS bucket, sum(delta)::int AS count
             FROM (SELECT at, CASE WHEN online THEN 1 ELSE -1 END AS delta FROM presence_events WHERE at >= $1
                   UNION ALL
                   SELECT changed_at, -1 FROM device_presence WHERE offline_pending AND NOT online AND changed_at >= $1) e
            GROUP BY bucket
         ) c ON true`,
      [from, bucketMs],
    );
    return {
      now: rows[0]?.now ?? 0,
      changes: rows.flatMap((row) => (row.bucket && row.count !== null ? [{ bucket: row.bucket, count: row.count }] : [])),
    };
  }

  /** Alerts raised per bucket since `from`. */
  async alertsRaised(from: Date, bucketMs: number): Promise<BucketCount[]> {
    const { rows } = await this.pool.query<BucketCount>(
      `SELECT date_bin(make_interval(secs => $2::float8 / 1000), raised_at, TIMESTAMPTZ 'epoch') AS bucket, count(*)::int AS count
         FROM alerts WHERE raised_at >= $1
        GROUP BY bucket`,
      [from, bucketMs],
    );
    return rows;
  }

  /** The devices with the most messages in the count buckets starting at or after `from`. */
  async topTalkers(from: Date, limit: number): Promise<PulseDevice[]> {
    const { rows } = await this.pool.query<DeviceRow>(
      `SELECT m.device_id, coalesce(d.name, m.device_id) AS name, coalesce(d.online, false) AS online, d.last_seen_at, m.messages
         FROM (SELECT device_id, sum(messages)::int AS messages FROM device_message_counts WHERE bucket >= $1
                GROUP BY device_id HAVING sum(messages) > 0 ORDER BY messages DESC, device_id LIMIT $2) m
         LEFT JOIN devices d ON d.id = m.device_id
        ORDER BY m.messages DESC, m.device_id`,
      [from, limit],
    );
    return rows.map(toDevice);
  }

  /**
   * Offline devices seen before, longest silent first, with their messages in the count
   * buckets starting at `buckets` (the window's bucket starts, so each device costs one
   * primary-key probe per bucket, not a scan of the window's rows).
   */
  async silent(buckets: readonly Date[], limit: number): Promise<PulseDevice[]> {
    const { rows } = await this.pool.query<DeviceRow>(
      `SELECT d.id AS device_id, d.name, d.online, d.last_seen_at,
              (SELECT coalesce(sum(c.messages), 0)::int FROM device_message_counts c
                WHERE c.bucket = ANY($1::timestamptz[]) AND c.device_id = d.id) AS messages
         FROM devices d
        WHERE NOT d.online AND d.last_seen_at IS NOT NULL
        ORDER BY d.last_seen_at, d.id LIMIT $2`,
      [buckets, limit],
    );
    return rows.map(toDevice);
  }

  /** The newest active (not acknowledged, not resolved) alerts. */
  async latestActiveAlerts(limit: number): Promise<PulseAlert[]> {
    const { rows } = await this.pool.query<{
      id: string;
      device_id: string;
      severity: PulseAlert["severity"];
      message: string;
      raised_at: Date;
    }>("SELECT id, device_id, severity, message, raised_at FROM alerts WHERE state = 'active' ORDER BY id DESC LIMIT $1", [limit]);
    return rows.map((row) => ({
      id: Number(row.id),
      deviceId: row.device_id,
      severity: row.severity,
      message: row.message,
      raisedAt: row.raised_at.toISOString(),
    }));
  }
}
