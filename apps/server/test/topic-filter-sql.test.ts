// The one translation of MQTT topic filters into SQL (db/topic-filter.ts), run by the real
// PostgreSQL for generated filters and topics: it selects exactly the topics the broker's own
// matching selects [MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.2-1], whatever LIKE or regular
// expression characters the levels hold. The filters come from HTTP query strings.
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import fc from "fast-check";
import pg from "pg";
import { isValidTopicFilter, topicMatches } from "@fleetwatch/contracts";
import { topicFilterCondition, topicFilterSql } from "../src/db/topic-filter.ts";

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ connectionString: inject("adminDatabaseUrl") });
  await client.connect();
});
afterAll(() => client.end());

// Levels that are plain, empty, system-like, or full of LIKE and regular expression syntax.
const level = fc.constantFrom("a", "b", "devices", "", "$SYS", "$x", "a.b", "100%", "x_y", "\\", "(.*)", "[^/]", "a|b", "é", "^$");
const topic = fc.array(level, { minLength: 1, maxLength: 5 }).map((levels) => levels.join("/"));
const filter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([levels, multi]) => [...levels, ...(multi || levels.length === 0 ? ["#"] : [])].join("/"))
  .filter(isValidTopicFilter);

describe("topic filters in SQL", () => {
  it("select in PostgreSQL exactly the topics the filter matches", async () => {
    await fc.assert(
      fc.asyncProperty(filter, fc.uniqueArray(topic, { minLength: 1, maxLength: 30 }), async (filter, topics) => {
        const condition = topicFilterCondition(filter);
        expect(condition).not.toBeNull();
        const where = topicFilterSql("topic", condition!, 2);
        const { rows } = await client.query<{ topic: string }>(
          `SELECT topic FROM unnest($1::text[]) AS t(topic) WHERE ${where.sql} ORDER BY topic COLLATE "C"`,
          [topics, ...where.params],
        );
        const expected = topics.filter((t) => topicMatches(filter, t)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect([filter, rows.map((row) => row.topic)]).toEqual([filter, expected]);
      }),
      { numRuns: 300 },
    );
  });
});
