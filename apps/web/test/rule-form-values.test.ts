// The alert rule form's conversion to the API body: what it refuses before a request, and
// the complete body it sends (the same body creates a rule or replaces every field of one).
import { describe, expect, it } from "vitest";
import type { AlertRule } from "@fleetwatch/contracts";
import {
  describeCondition,
  emptyRuleForm,
  ruleBodyFrom,
  ruleFormFrom,
  type RuleFormValues,
} from "../src/features/alerts/components/rule-form-values.ts";
import { formatDuration } from "../src/lib/format.ts";

const filled = (changes: Partial<RuleFormValues> = {}): RuleFormValues => ({
  ...emptyRuleForm(),
  name: " Too hot ",
  deviceId: "boiler-1",
  metric: "temp",
  threshold: "50.5",
  holdSeconds: "1.5",
  ...changes,
});

describe("ruleBodyFrom", () => {
  it("builds a complete body, trimmed, in milliseconds, with the other target cleared", () => {
    expect(ruleBodyFrom(filled())).toEqual({
      ok: true,
      body: {
        name: "Too hot",
        deviceId: "boiler-1",
        tag: null,
        metric: "temp",
        comparison: ">",
        threshold: 50.5,
        durationMs: 1500,
        severity: "warning",
        enabled: true,
      },
    });
  });

  it("sends a tag rule with deviceId null, so switching an existing rule from device to tag clears its device", () => {
    const result = ruleBodyFrom(filled({ target: "tag", tag: " greenhouse " }));
    expect(result.ok && result.body).toMatchObject({ deviceId: null, tag: "greenhouse" });
  });

  it.each([
    [{ name: "  " }, "name"],
    [{ deviceId: "Boiler/1" }, "deviceId"],
    [{ target: "tag" as const, tag: "" }, "tag"],
    [{ metric: "" }, "metric"],
    [{ threshold: "" }, "threshold"],
    [{ threshold: "hot" }, "threshold"],
    [{ holdSeconds: "-1" }, "holdSeconds"],
    [{ holdSeconds: String(8 * 24 * 3600) }, "holdSeconds"],
  ])("refuses %o and names the field %s", (changes, field) => {
    const result = ruleBodyFrom(filled(changes));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.field).toBe(field);
  });

  it("takes an empty hold duration as 0 (raise on the first reading) and a negative threshold as a number", () => {
    const result = ruleBodyFrom(filled({ holdSeconds: "", threshold: "-10" }));
    expect(result.ok && result.body).toMatchObject({ durationMs: 0, threshold: -10 });
  });
});

describe("ruleFormFrom", () => {
  it("round-trips an existing rule through the form unchanged", () => {
    const rule: AlertRule = {
      id: 7,
      name: "Humid",
      deviceId: null,
      tag: "greenhouse",
      metric: "env.humidity",
      comparison: ">=",
      threshold: 80,
      durationMs: 90_000,
      severity: "critical",
      enabled: false,
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    const { id: _id, createdAt: _c, updatedAt: _u, ...fields } = rule;
    expect(ruleBodyFrom(ruleFormFrom(rule))).toEqual({ ok: true, body: fields });
  });
});

describe("describeCondition", () => {
  it("reads as metric, comparison, threshold and the hold time when there is one", () => {
    expect(describeCondition({ metric: "temp", comparison: ">", threshold: 50, durationMs: 0 })).toBe("temp > 50");
    expect(describeCondition({ metric: "temp", comparison: "<=", threshold: -5, durationMs: 90_000 })).toBe("temp <= -5 for 1.5 min");
    expect([500, 1_500, 3_600_000, 2 * 86_400_000].map(formatDuration)).toEqual(["500 ms", "1.5 s", "1 h", "2 d"]);
  });
});
