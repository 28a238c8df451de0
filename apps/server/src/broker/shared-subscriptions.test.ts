import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isValidTopicFilter, parseSharedFilter, topicMatches } from "@fleetwatch/contracts";
import { deliveryFilter, parseDelivery } from "./shared-subscriptions.ts";

/** Topic levels without wildcards, U+0000 or "/", possibly empty. */
const level = fc.string({ unit: "grapheme", maxLength: 8 }).filter((text) => !/[/+#]/.test(text) && !text.includes("\u0000"));

describe("shared subscription filters", () => {
  it("split $share/{group}/{filter} for any valid group and filter, and refuse a malformed one [MQTT-4.8.2-1, MQTT-4.8.2-2] (fast-check)", () => {
    fc.assert(
      fc.property(
        level.filter((group) => group.length > 0),
        fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (group, levels, hash) => {
          const filter = [...levels, ...(hash ? ["#"] : [])].join("/");
          fc.pre(filter.length > 0); // an empty filter is no filter [MQTT-4.7.3-1]
          expect(parseSharedFilter(`$share/${group}/${filter}`)).toEqual({ group, filter });
        },
      ),
    );
    for (const malformed of ["$share/", "$share/g", "$share//devices/#", "$share/g+/x", "$share/#/x", "$share/g/devices/#/x", "$share/g/"])
      expect(parseSharedFilter(malformed), malformed).toBeNull();
    expect(parseSharedFilter("devices/+/telemetry")).toBeNull();
  });

  it("give each member a delivery filter that only its own delivery topics match, whatever its client id (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
        level.filter((group) => group.length > 0),
        fc.array(level, { minLength: 1, maxLength: 4 }),
        (member, other, group, levels) => {
          const topic = levels.join("/");
          const filter = deliveryFilter(member, { group, filter: "#" });
          expect(isValidTopicFilter(filter)).toBe(true);
          // (The delivery topic of a message on `topic`, as the publishing node builds it.)
          const delivered = deliveryFilter(member, { group, filter: topic });
          expect(parseDelivery(delivered)).toEqual({ clientId: member, group, rest: topic });
          expect(topicMatches(filter, delivered)).toBe(true);
          if (other !== member) expect(topicMatches(filter, deliveryFilter(other, { group, filter: topic }))).toBe(false);
          // `$`-topics are out of reach of wildcard filters [MQTT-4.7.2-1].
          expect(topicMatches("#", delivered)).toBe(false);
        },
      ),
    );
    expect(parseDelivery("devices/a/telemetry")).toBeNull();
  });
});
