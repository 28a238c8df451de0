import { describe, expect, it } from "vitest";
import { topicMatches } from "@fleetwatch/contracts";
import { topicFilterCondition, topicFilterSql } from "./topic-filter.ts";

/** Evaluates a condition the way PostgreSQL would (`=`, LIKE with \ escapes, `~`). */
function matches(filter: string, topic: string): boolean {
  const condition = topicFilterCondition(filter);
  if (!condition) throw new Error(`invalid filter ${filter}`);
  if (condition.exact !== undefined && topic !== condition.exact) return false;
  if (condition.likePrefix !== undefined) {
    const prefix = condition.likePrefix.slice(0, -1).replace(/\\(.)/g, "$1");
    if (!topic.startsWith(prefix)) return false;
  }
  return condition.regex === undefined || new RegExp(condition.regex).test(topic);
}

const topics = [
  "devices/a/telemetry",
  "devices/b/telemetry",
  "devices/a/state",
  "devices/a",
  "devices",
  "devices/a/logs/boot",
  "devices//telemetry",
  "$SYS/broker",
  "sport/tennis/player1",
  "a.b/c",
  "axb/c",
  "100%_done/x",
  "100%Xdone/x",
];
const filters = [
  "devices/+/telemetry",
  "devices/#",
  "devices/a/#",
  "#",
  "+/+",
  "+/a/+",
  "devices/+",
  "$SYS/#",
  "a.b/+",
  "100%_done/#",
  "devices/a/telemetry",
  "+",
  "devices/+/+/boot",
];

describe("MQTT topic filters as SQL conditions", () => {
  it("agrees with the broker's matching for every filter and topic [MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.2-1]", () => {
    for (const filter of filters) {
      for (const topic of topics) expect([filter, topic, matches(filter, topic)]).toEqual([filter, topic, topicMatches(filter, topic)]);
    }
  });

  it("uses an exact match without wildcards, and an index-friendly prefix before the first wildcard", () => {
    expect(topicFilterCondition("devices/a/telemetry")).toEqual({ exact: "devices/a/telemetry" });
    expect(topicFilterCondition("devices/+/telemetry")?.likePrefix).toBe("devices/%");
    expect(topicFilterCondition("devices/a/#")?.likePrefix).toBe("devices/a%");
    expect(topicFilterCondition("#")?.likePrefix).toBeUndefined();
  });

  it("escapes LIKE and regular expression characters in literal levels", () => {
    expect(topicFilterCondition("100%_done/#")).toEqual({ likePrefix: "100\\%\\_done%", regex: "^100%_done(/.*)?$" });
    expect(topicFilterCondition("a.b/+")?.regex).toBe("^a\\.b/[^/]*$");
    expect(topicFilterCondition("x')/+")?.regex).toBe("^x'\\)/[^/]*$");
  });

  it("rejects invalid filters", () => {
    for (const bad of ["", "devices/#/x", "devices/a+", "a/#b"]) expect(topicFilterCondition(bad)).toBeNull();
  });

  it("renders a condition as SQL with numbered placeholders, every part a parameter", () => {
    expect(topicFilterSql("topic", topicFilterCondition("devices/a/telemetry")!, 3)).toEqual({
      sql: "(topic = $3)",
      params: ["devices/a/telemetry"],
    });
    expect(topicFilterSql("t", topicFilterCondition("devices/+/telemetry")!, 2)).toEqual({
      sql: "(t LIKE $2 AND t ~ $3)",
      params: ["devices/%", "^devices/[^/]*/telemetry$"],
    });
    expect(topicFilterSql("topic", topicFilterCondition("#")!, 1)).toEqual({ sql: "(topic ~ $1)", params: ["^(?!\\$).*$"] });
  });
});
