import { useId, useRef, useState, type FormEvent } from "react";
import type { AlertRule, CreateAlertRule } from "@fleetwatch/contracts";
import { ActionError } from "../../../components/query-state.tsx";
import { comparisons, emptyRuleForm, ruleBodyFrom, ruleFormFrom, severities, type RuleFormValues } from "./rule-form-values.ts";

interface RuleFormProps {
  /** The rule being edited; none: a new rule. */
  rule?: AlertRule;
  pending: boolean;
  /** The server's refusal of the last submit, if any. */
  error: unknown;
  onSubmit: (body: Required<CreateAlertRule>) => void;
  onCancel: () => void;
}

/** Create or edit a threshold rule. Every control has a visible label. */
export function RuleForm({ rule, pending, error, onSubmit, onCancel }: RuleFormProps) {
  const [values, setValues] = useState<RuleFormValues>(() => (rule ? ruleFormFrom(rule) : emptyRuleForm()));
  const [invalid, setInvalid] = useState<{ field: keyof RuleFormValues; message: string } | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const headingId = useId();
  const errorId = useId();

  const set = <K extends keyof RuleFormValues>(field: K, value: RuleFormValues[K]) =>
    setValues((current) => ({ ...current, [field]: value }));
  // Marks the control the client-side check refused, and points it at the message.
  const check = (field: keyof RuleFormValues) =>
    invalid?.field === field ? ({ "aria-invalid": true, "aria-describedby": errorId } as const) : ({} as const);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = ruleBodyFrom(values);
    if (!result.ok) {
      setInvalid({ field: result.field, message: result.message });
      form.current?.querySelector<HTMLElement>(`[name="${result.field}"]`)?.focus();
      return;
    }
    setInvalid(null);
    onSubmit(result.body);
  };

  return (
    <section className="card rule-form" aria-labelledby={headingId}>
      <h3 id={headingId} className="card__title">
        {rule ? `Edit rule “${rule.name}”` : "New threshold rule"}
      </h3>
      <form ref={form} className="form" onSubmit={submit} noValidate>
        <label className="field">
          <span className="field__label">Name</span>
          <input
            name="name"
            value={values.name}
            maxLength={200}
            onChange={(event) => set("name", event.target.value)}
            autoFocus
            {...check("name")}
          />
        </label>

        <fieldset className="rule-form__target">
          <legend className="field__label">Applies to</legend>
          <label>
            <input
              type="radio"
              name="target"
              value="device"
              checked={values.target === "device"}
              onChange={() => set("target", "device")}
            />{" "}
            One device
          </label>
          <label>
            <input type="radio" name="target" value="tag" checked={values.target === "tag"} onChange={() => set("target", "tag")} /> Every
            device with a tag
          </label>
        </fieldset>
        {values.target === "device" ? (
          <label className="field">
            <span className="field__label">Device id</span>
            <input
              name="deviceId"
              value={values.deviceId}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => set("deviceId", event.target.value)}
              {...check("deviceId")}
            />
          </label>
        ) : (
          <label className="field">
            <span className="field__label">Tag</span>
            <input
              name="tag"
              value={values.tag}
              maxLength={100}
              autoComplete="off"
              onChange={(event) => set("tag", event.target.value)}
              {...check("tag")}
            />
          </label>
        )}

        <div className="rule-form__condition">
          <label className="field">
            <span className="field__label">Metric</span>
            <input
              name="metric"
              value={values.metric}
              maxLength={200}
              placeholder="temp"
              spellCheck={false}
              onChange={(event) => set("metric", event.target.value)}
              {...check("metric")}
            />
          </label>
          <label className="field">
            <span className="field__label">Comparison</span>
            <select
              name="comparison"
              value={values.comparison}
              onChange={(event) => set("comparison", event.target.value as RuleFormValues["comparison"])}
            >
              {comparisons.map(({ value, label }) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field__label">Threshold</span>
            <input
              name="threshold"
              type="number"
              step="any"
              inputMode="decimal"
              value={values.threshold}
              onChange={(event) => set("threshold", event.target.value)}
              {...check("threshold")}
            />
          </label>
          <label className="field">
            <span className="field__label">Hold for (seconds)</span>
            <input
              name="holdSeconds"
              type="number"
              min={0}
              step="any"
              inputMode="decimal"
              value={values.holdSeconds}
              onChange={(event) => set("holdSeconds", event.target.value)}
              {...check("holdSeconds")}
            />
          </label>
        </div>
        <p className="field__hint">
          The alert is raised once the condition has held this long (0: on the first reading), and resolved by the first reading that no
          longer meets it.
        </p>

        <div className="rule-form__condition">
          <label className="field">
            <span className="field__label">Severity</span>
            <select
              name="severity"
              value={values.severity}
              onChange={(event) => set("severity", event.target.value as RuleFormValues["severity"])}
            >
              {severities.map((severity) => (
                <option key={severity} value={severity}>
                  {severity}
                </option>
              ))}
            </select>
          </label>
          <label className="rule-form__enabled">
            <input type="checkbox" name="enabled" checked={values.enabled} onChange={(event) => set("enabled", event.target.checked)} />{" "}
            Enabled
          </label>
        </div>

        {invalid ? (
          <p id={errorId} className="notice notice--error" role="alert">
            {invalid.message}
          </p>
        ) : (
          <ActionError error={error} />
        )}
        <div className="rule-form__actions">
          <button type="submit" className="button button--primary" disabled={pending}>
            {pending ? "Saving…" : rule ? "Save rule" : "Create rule"}
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
