// Telling "the database is unavailable" from "the database refused this": the first is
// waited out (retried, not acknowledged, let in from caches), the second is the request's own
// fault and must never be retried at the expense of others (ingest/writer.ts).
import pg from "pg";

/**
 * SQLSTATE classes that say nothing about the data: connection exception (08), transaction
 * rollback (40: serialization failure, deadlock), insufficient resources (53), operator
 * intervention (57: shutdown, statement timeout, cannot connect now), system error (58).
 */
const OUTAGE_SQLSTATE_CLASSES = new Set(["08", "40", "53", "57", "58"]);

/**
 * Whether an error means the database is unavailable rather than that the data is bad. An
 * error the server sent is judged by its SQLSTATE; an error raised while encoding data
 * (TypeError, RangeError) is the data's; anything else came from the connection (reset,
 * refused, pool or query timeout).
 */
export function isOutage(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return OUTAGE_SQLSTATE_CLASSES.has((error.code ?? "").slice(0, 2));
  return !(error instanceof TypeError || error instanceof RangeError);
}
