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
  min: number;
  max: number;
  avg: number;
  count: number;
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
   * min/max/avg/count per bucket of `bucketMs` starting at `from`, over the index range of
   * one metric of one device. avg is computed in float8; if that overflows (values near
   * ±1.8e308), the query is repeated with an exact numeric average, which always fits.
   */
  async buckets(deviceId: string, metric: string, from: Date, to: Date, bucketMs: number): Promise<BucketRow[]> {
    const query = (avg: string) =>
      this.pool.query<BucketRow>(
        `SELECT date_bin(make_interval(secs => $5::float8 / 1000), time, $3::timestamptz) AS bucket,
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
   * The raw readings of one metric in time order, in chunks, through a server-side cursor:
   * memory stays bounded whatever the range. Stopping early (the HTTP client went away)
   * closes the cursor and returns the connection.
   */
  async *streamReadings(deviceId: string, metric: string, from: Date, to: Date): AsyncGenerator<{ time: Date; value: number }[]> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN READ ONLY");
      await client.query(
        `DECLARE export NO SCROLL CURSOR FOR
           SELECT time, value FROM readings WHERE device_id = $1 AND metric = $2 AND time >= $3 AND time < $4 ORDER BY time`,
        [deviceId, metric, from, to],
      );
      for (;;) {
        const { rows } = await client.query<{ time: Date; value: number }>(`FETCH ${EXPORT_FETCH_SIZE} FROM export`);
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
}
