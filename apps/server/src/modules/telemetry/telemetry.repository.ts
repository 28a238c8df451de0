// Reads of the readings table: latest values per metric, downsampled series, and a cursor
// over raw readings for exports. The only code that queries readings. Raw pg: the
// partitioned readings log is not a Prisma model, and its reads are measured (bench history).
import type pg from "pg";

export interface LatestReading {
  metric: string;
  time: Date;
  value: number;
}

export interface BucketRow {
  bucket: Date;
  /** Epoch ms: the mean time of the bucket's readings. */
  atMs: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

/** One reading of an export: `metric` indexes the requested metrics. */
export interface ExportRow {
  time: Date;
  metric: number;
  value: number;
}

/** SQLSTATE numeric_value_out_of_range: float8 arithmetic overflowed. */
const OUT_OF_RANGE = "22003";
/** Rows fetched per round trip when streaming an export. */
const EXPORT_FETCH_SIZE = 5_000;

export class TelemetryRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Each metric of a device with its latest reading. A loose index scan over
   * (device_id, metric, time): one index probe per distinct metric instead of reading the
   * device's whole history, then one probe for each metric's newest row.
   */
  async latestReadings(deviceId: string): Promise<LatestReading[]> {
    const { rows } = await this.pool.query<LatestReading>(
      `WITH RECURSIVE metrics(metric) AS (
         (SELECT metric FROM readings WHERE device_id = $1 ORDER BY metric LIMIT 1)
         UNION ALL
         SELECT (SELECT r.metric FROM readings r WHERE r.device_id = $1 AND r.metric > m.metric ORDER BY r.metric LIMIT 1)
           FROM metrics m WHERE m.metric IS NOT NULL
       )
       SELECT m.metric, latest.time, latest.value
         FROM metrics m
         CROSS JOIN LATERAL (
           SELECT time, value FROM readings r WHERE r.device_id = $1 AND r.metric = m.metric ORDER BY time DESC LIMIT 1
         ) latest
        WHERE m.metric IS NOT NULL
        ORDER BY m.metric`,
      [deviceId],
    );
    return rows;
  }

  /**
   * min/max/avg/count per bucket of `bucketMs`, aligned to the Unix epoch (not to `from`, so
   * the same reading always lands in the same bucket), over the index range of one metric of
   * one device. `from` and `to` should be bucket boundaries, or the end buckets are partial.
   * avg is computed in float8; if that overflows (values near ±1.8e308), the query is
   * repeated with an exact numeric average, which always fits. The mean time is averaged over
   * whole milliseconds (float8 epoch, then bigint: 5 to 8 % more than the bucket query alone,
   * where numeric epochs cost 18 %).
   */
  async buckets(deviceId: string, metric: string, from: Date, to: Date, bucketMs: number): Promise<BucketRow[]> {
    const query = (avg: string) =>
      this.pool.query<BucketRow>(
        `SELECT date_bin(make_interval(secs => $5::float8 / 1000), time, TIMESTAMPTZ 'epoch') AS bucket,
                floor(avg((date_part('epoch', time) * 1000)::bigint))::float8 AS "atMs",
                min(value) AS min, max(value) AS max, ${avg} AS avg, count(*)::int AS count
           FROM readings
          WHERE device_id = $1 AND metric = $2 AND time >= $3 AND time < $4
          GROUP BY bucket
          ORDER BY bucket`,
        [deviceId, metric, from, to, bucketMs],
      );
    try {
      return (await query("avg(value)")).rows;
    } catch (error) {
      if ((error as { code?: string }).code !== OUT_OF_RANGE) throw error;
      return (await query("avg(value::numeric)::float8")).rows;
    }
  }

  /**
   * The raw readings of the given metrics in time order (readings at the same time in the
   * order of `metrics`), in chunks, through a server-side cursor: memory stays bounded
   * whatever the range. Each metric is one branch over its own index range, already in time
   * order, so PostgreSQL merges the branches (Merge Append, then an incremental sort among
   * readings of the same time only) instead of sorting the whole export before the first row.
   * `metric` in the rows is the index into `metrics`. Stopping early (the HTTP client went
   * away) closes the cursor and returns the connection.
   */
  async *streamReadings(deviceId: string, metrics: readonly string[], from: Date, to: Date): AsyncGenerator<ExportRow[]> {
    const branches = metrics.map(
      (_, k) =>
        `(SELECT time, ${k} AS metric, value FROM readings WHERE device_id = $1 AND metric = $${k + 4} AND time >= $2 AND time < $3 ORDER BY time)`,
    );
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN READ ONLY");
      await client.query(
        `DECLARE export NO SCROLL CURSOR FOR SELECT time, metric, value FROM (${branches.join(" UNION ALL ")}) r ORDER BY time, metric`,
        [deviceId, from, to, ...metrics],
      );
      for (;;) {
        const { rows } = await client.query<ExportRow>(`FETCH ${EXPORT_FETCH_SIZE} FROM export`);
        if (rows.length === 0) break;
        yield rows;
      }
      await client.query("COMMIT");
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      // Also reached when the consumer stops early: end the transaction (closing the cursor).
      if (!broken) await client.query("ROLLBACK").catch((error: Error) => (broken = error));
      client.release(broken ?? undefined);
    }
  }

  /** The newest reading of one metric of one device in [from, to): an index probe from the range's end. */
  async latest(deviceId: string, metric: string, from: Date, to: Date): Promise<{ time: Date; value: number } | null> {
    const { rows } = await this.pool.query<{ time: Date; value: number }>(
      "SELECT time, value FROM readings WHERE device_id = $1 AND metric = $2 AND time >= $3 AND time < $4 ORDER BY time DESC LIMIT 1",
      [deviceId, metric, from, to],
    );
    return rows[0] ?? null;
  }

  /**
   * avg, min or max of the newest reading in [from, to) of each device with `tag`: the tag's
   * GIN index finds the devices, then one index probe each, from the range's end.
   */
  async tagLatest(
    tag: string,
    metric: string,
    aggregate: "avg" | "min" | "max",
    from: Date,
    to: Date,
  ): Promise<{ value: number | null; time: Date | null; devices: number }> {
    const fn = { avg: "avg", min: "min", max: "max" }[aggregate];
    const { rows } = await this.pool.query<{ value: number | null; time: Date | null; devices: number }>(
      `SELECT ${fn}(l.value)::float8 AS value, max(l.time) AS time, count(*)::int AS devices
         FROM devices d
         CROSS JOIN LATERAL (
           SELECT time, value FROM readings r
            WHERE r.device_id = d.id AND r.metric = $2 AND r.time >= $3 AND r.time < $4
            ORDER BY time DESC LIMIT 1
         ) l
        WHERE d.tags @> ARRAY[$1]::text[]`,
      [tag, metric, from, to],
    );
    return rows[0] ?? { value: null, time: null, devices: 0 };
  }

  /**
   * Aligned buckets of one metric over every device with `tag`: min, max and avg of all their
   * readings in each bucket (the fleet aggregate a dashboard draws), one index range per device.
   */
  async tagBuckets(tag: string, metric: string, from: Date, to: Date, bucketMs: number): Promise<BucketRow[]> {
    const { rows } = await this.pool.query<BucketRow>(
      `SELECT date_bin(make_interval(secs => $5::float8 / 1000), r.time, TIMESTAMPTZ 'epoch') AS bucket,
              floor(avg((date_part('epoch', r.time) * 1000)::bigint))::float8 AS "atMs",
              min(r.value) AS min, max(r.value) AS max, avg(r.value::numeric)::float8 AS avg, count(*)::int AS count
         FROM devices d
         JOIN readings r ON r.device_id = d.id AND r.metric = $2 AND r.time >= $3 AND r.time < $4
        WHERE d.tags @> ARRAY[$1]::text[]
        GROUP BY bucket
        ORDER BY bucket`,
      [tag, metric, from, to, bucketMs],
    );
    return rows;
  }
}
