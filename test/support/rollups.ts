// The overview's rollups of the messages log (migration 20261203130000_message_rollups),
// compared with the log itself: the rows where a rollup and a GROUP BY of the log disagree.
import { adminQuery } from "./postgres.ts";

export interface RollupMismatch {
  rollup: "message_rate" | "device_message_counts";
  key: string;
  log: number | null;
  counted: number | null;
}

/** Every bucket whose rollup count differs from the log's (empty when they agree). */
export async function rollupMismatches(databaseUrl: string): Promise<RollupMismatch[]> {
  const rate = await adminQuery(
    databaseUrl,
    `SELECT 'message_rate' AS rollup, minute::text AS key, l.n AS log, r.n AS counted
       FROM (SELECT date_bin(interval '1 minute', received_at, TIMESTAMPTZ 'epoch') AS minute, count(*)::int AS n FROM messages GROUP BY 1) l
       FULL JOIN (SELECT minute, sum(messages)::int AS n FROM message_rate GROUP BY minute HAVING sum(messages) <> 0) r USING (minute)
      WHERE l.n IS DISTINCT FROM r.n`,
  );
  const devices = await adminQuery(
    databaseUrl,
    `SELECT 'device_message_counts' AS rollup, bucket::text || ' ' || device_id AS key, l.n AS log, r.n AS counted
       FROM (SELECT date_bin(interval '5 minutes', received_at, TIMESTAMPTZ 'epoch') AS bucket, device_id, count(*)::int AS n
               FROM messages GROUP BY 1, 2) l
       FULL JOIN (SELECT bucket, device_id, messages AS n FROM device_message_counts WHERE messages <> 0) r USING (bucket, device_id)
      WHERE l.n IS DISTINCT FROM r.n`,
  );
  return [...rate.rows, ...devices.rows] as RollupMismatch[];
}
