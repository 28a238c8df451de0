// The rule form's fields as the user types them, and their conversion to the API's body.
// Kept apart from the component so the conversion rules are testable without a DOM.
import {
  isValidDeviceId,
  MAX_RULE_HOLD_MS,
  type AlertRule,
  type Comparison,
  type CreateAlertRule,
  type Severity,
} from "@fleetwatch/contracts";
import { formatDuration } from "../../../lib/format.ts";

export interface RuleFormValues {
  name: string;
  target: "device" | "tag";
  deviceId: string;
  tag: string;
  metric: string;
  comparison: Comparison;
  /** Text, as typed: parsed on submit. */
  threshold: string;
  /** Seconds, as typed. */
  holdSeconds: string;
  severity: Severity;
  enabled: boolean;
}

export const comparisons: readonly { value: Comparison; label: string }[] = [
  { value: ">", label: "above (>)" },
  { value: ">=", label: "at or above (≥)" },
  { value: "<", label: "below (<)" },
  { value: "<=", label: "at or below (≤)" },
  { value: "==", label: "equal to (=)" },
  { value: "!=", label: "not equal to (≠)" },
];

export const severities: readonly Severity[] = ["info", "warning", "critical"];

export function emptyRuleForm(): RuleFormValues {
  return {
    name: "",
    target: "device",
    deviceId: "",
    tag: "",
    metric: "",
    comparison: ">",
    threshold: "",
    holdSeconds: "0",
    severity: "warning",
    enabled: true,
  };
}

export function ruleFormFrom(rule: AlertRule): RuleFormValues {
  return {
    name: rule.name,
    target: rule.deviceId !== null ? "device" : "tag",
    deviceId: rule.deviceId ?? "",
    tag: rule.tag ?? "",
    metric: rule.metric,
    comparison: rule.comparison,
    threshold: String(rule.threshold),
    holdSeconds: String(rule.durationMs / 1000),
    severity: rule.severity,
    enabled: rule.enabled,
  };
}

export type RuleFormResult = { ok: true; body: Required<CreateAlertRule> } | { ok: false; field: keyof RuleFormValues; message: string };

/**
 * Checks what the browser's own constraints cannot (numbers, the device id's slug form) and
 * builds a complete body: the same one creates a rule or replaces every field of an existing
 * one, so switching a rule from device to tag clears the other side explicitly.
 */
export function ruleBodyFrom(values: RuleFormValues): RuleFormResult {
  const name = values.name.trim();
  if (!name) return { ok: false, field: "name", message: "Give the rule a name." };
  const deviceId = values.deviceId.trim();
  const tag = values.tag.trim();
  if (values.target === "device" && !isValidDeviceId(deviceId)) {
    return { ok: false, field: "deviceId", message: "Enter a device id: lowercase letters, digits and dashes." };
  }
  if (values.target === "tag" && !tag) return { ok: false, field: "tag", message: "Enter a tag." };
  const metric = values.metric.trim();
  if (!metric) return { ok: false, field: "metric", message: "Enter the metric to watch, e.g. temp or env.humidity." };
  const threshold = values.threshold.trim() === "" ? Number.NaN : Number(values.threshold);
  if (!Number.isFinite(threshold)) return { ok: false, field: "threshold", message: "The threshold must be a number." };
  const holdSeconds = values.holdSeconds.trim() === "" ? 0 : Number(values.holdSeconds);
  const durationMs = Math.round(holdSeconds * 1000);
  if (!Number.isFinite(holdSeconds) || durationMs < 0 || durationMs > MAX_RULE_HOLD_MS) {
    return {
      ok: false,
      field: "holdSeconds",
      message: `The hold duration must be between 0 seconds and ${MAX_RULE_HOLD_MS / 86_400_000} days.`,
    };
  }
  return {
    ok: true,
    body: {
      name,
      deviceId: values.target === "device" ? deviceId : null,
      tag: values.target === "tag" ? tag : null,
      metric,
      comparison: values.comparison,
      threshold,
      durationMs,
      severity: values.severity,
      enabled: values.enabled,
    },
  };
}

/** "temp > 30 for 1 min", for lists and dialogs. */
export function describeCondition(rule: Pick<AlertRule, "metric" | "comparison" | "threshold" | "durationMs">): string {
  const hold = rule.durationMs > 0 ? ` for ${formatDuration(rule.durationMs)}` : "";
  return `${rule.metric} ${rule.comparison} ${rule.threshold}${hold}`;
}
