// A widget configured in a form, no code: its kind, title and what it shows. The server
// validates the saved dashboard again (the same TypeBox contract), and says why if it refuses.
import { useId, useState, type FormEvent } from "react";
import type { Aggregate, Thresholds, Widget, WidgetKind, WidgetLayout, WidgetSource } from "@fleetwatch/contracts";
import { MAX_SOURCES } from "@fleetwatch/contracts";
import { widgetKinds } from "../lib/widgets.ts";

interface SourceDraft {
  kind: "device" | "tag";
  deviceId: string;
  tag: string;
  metric: string;
  aggregate: Aggregate;
}

const emptySource: SourceDraft = { kind: "device", deviceId: "", tag: "", metric: "", aggregate: "avg" };

function toDraft(source: WidgetSource): SourceDraft {
  return source.kind === "device"
    ? { ...emptySource, deviceId: source.deviceId, metric: source.metric }
    : { ...emptySource, kind: "tag", tag: source.tag, metric: source.metric, aggregate: source.aggregate };
}

function toSource(draft: SourceDraft): WidgetSource {
  return draft.kind === "device"
    ? { kind: "device", deviceId: draft.deviceId.trim(), metric: draft.metric.trim() }
    : { kind: "tag", tag: draft.tag.trim(), metric: draft.metric.trim(), aggregate: draft.aggregate };
}

const optionalNumber = (text: string): number | undefined => (text.trim() === "" ? undefined : Number(text));

function SourceFields({ value, onChange, index }: { value: SourceDraft; onChange: (next: SourceDraft) => void; index: number }) {
  const set = (patch: Partial<SourceDraft>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="widget-form__source">
      <legend>Source {index + 1}</legend>
      <label className="field">
        <span className="field__label">From</span>
        <select value={value.kind} onChange={(e) => set({ kind: e.target.value as SourceDraft["kind"] })}>
          <option value="device">One device</option>
          <option value="tag">Devices with a tag (aggregate)</option>
        </select>
      </label>
      {value.kind === "device" ? (
        <label className="field">
          <span className="field__label">Device id</span>
          <input value={value.deviceId} onChange={(e) => set({ deviceId: e.target.value })} required />
        </label>
      ) : (
        <>
          <label className="field">
            <span className="field__label">Tag</span>
            <input value={value.tag} onChange={(e) => set({ tag: e.target.value })} required />
          </label>
          <label className="field">
            <span className="field__label">Aggregate</span>
            <select value={value.aggregate} onChange={(e) => set({ aggregate: e.target.value as Aggregate })}>
              <option value="avg">Average</option>
              <option value="min">Minimum</option>
              <option value="max">Maximum</option>
            </select>
          </label>
        </>
      )}
      <label className="field">
        <span className="field__label">Metric</span>
        <input value={value.metric} onChange={(e) => set({ metric: e.target.value })} required />
      </label>
    </fieldset>
  );
}

export function WidgetForm({
  initial,
  id,
  layout,
  onSave,
  onCancel,
}: {
  initial?: Widget;
  id: string;
  layout: WidgetLayout;
  onSave: (widget: Widget) => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  const [kind, setKind] = useState<WidgetKind>(initial?.kind ?? "timeseries");
  const [title, setTitle] = useState(initial?.title ?? "");
  const [sources, setSources] = useState<SourceDraft[]>(
    initial?.kind === "timeseries"
      ? initial.sources.map(toDraft)
      : initial && (initial.kind === "value" || initial.kind === "gauge")
        ? [toDraft(initial.source)]
        : [emptySource],
  );
  const [tag, setTag] = useState(initial?.kind === "device-status" ? initial.tag : "");
  const [deviceId, setDeviceId] = useState(initial?.kind === "retained" || initial?.kind === "alerts" ? (initial.deviceId ?? "") : "");
  const numeric = initial?.kind === "value" || initial?.kind === "gauge" ? initial : undefined;
  const [unit, setUnit] = useState(numeric?.unit ?? "");
  const [min, setMin] = useState(initial?.kind === "gauge" ? String(initial.min) : "0");
  const [max, setMax] = useState(initial?.kind === "gauge" ? String(initial.max) : "100");
  const [direction, setDirection] = useState<Thresholds["direction"]>(numeric?.thresholds?.direction ?? "above");
  const [warning, setWarning] = useState(numeric?.thresholds?.warning?.toString() ?? "");
  const [critical, setCritical] = useState(numeric?.thresholds?.critical?.toString() ?? "");
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const common = { id, title: title.trim() || widgetKinds[kind], layout };
    const thresholdValues = { warning: optionalNumber(warning), critical: optionalNumber(critical) };
    if ([thresholdValues.warning, thresholdValues.critical, Number(min), Number(max)].some((n) => n !== undefined && !Number.isFinite(n)))
      return setError("Thresholds, minimum and maximum must be numbers.");
    const thresholds: Thresholds | undefined =
      thresholdValues.warning === undefined && thresholdValues.critical === undefined
        ? undefined
        : {
            direction,
            ...(thresholdValues.warning !== undefined ? { warning: thresholdValues.warning } : {}),
            ...(thresholdValues.critical !== undefined ? { critical: thresholdValues.critical } : {}),
          };
    const first = toSource(sources[0] ?? emptySource);
    const extras = { ...(unit.trim() ? { unit: unit.trim() } : {}), ...(thresholds ? { thresholds } : {}) };
    let widget: Widget;
    switch (kind) {
      case "timeseries":
        widget = { ...common, kind, sources: sources.map(toSource) };
        break;
      case "value":
        widget = { ...common, kind, source: first, ...extras };
        break;
      case "gauge":
        if (!(Number(min) < Number(max))) return setError("The gauge's minimum must be below its maximum.");
        widget = { ...common, kind, source: first, min: Number(min), max: Number(max), ...extras };
        break;
      case "device-status":
        widget = { ...common, kind, tag: tag.trim() };
        break;
      case "retained":
        widget = { ...common, kind, deviceId: deviceId.trim() };
        break;
      case "alerts":
        widget = { ...common, kind, ...(deviceId.trim() ? { deviceId: deviceId.trim() } : {}) };
        break;
    }
    setError(null);
    onSave(widget);
  };

  const usesSources = kind === "timeseries" || kind === "value" || kind === "gauge";
  return (
    <form className="card widget-form" onSubmit={submit} aria-labelledby={titleId}>
      <h2 id={titleId} className="card__title">
        {initial ? `Edit “${initial.title}”` : "Add a widget"}
      </h2>
      <div className="widget-form__row">
        <label className="field">
          <span className="field__label">Kind</span>
          <select value={kind} onChange={(e) => setKind(e.target.value as WidgetKind)} disabled={initial !== undefined}>
            {(Object.keys(widgetKinds) as WidgetKind[]).map((k) => (
              <option key={k} value={k}>
                {widgetKinds[k]}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field__label">Title</span>
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={100} placeholder={widgetKinds[kind]} />
        </label>
      </div>
      {usesSources ? (
        <div className="widget-form__sources">
          {(kind === "timeseries" ? sources : sources.slice(0, 1)).map((source, index) => (
            <div key={index} className="widget-form__source-row">
              <SourceFields value={source} index={index} onChange={(next) => setSources(sources.map((s, i) => (i === index ? next : s)))} />
              {kind === "timeseries" && sources.length > 1 ? (
                <button type="button" className="button" onClick={() => setSources(sources.filter((_, i) => i !== index))}>
                  Remove source {index + 1}
                </button>
              ) : null}
            </div>
          ))}
          {kind === "timeseries" && sources.length < MAX_SOURCES ? (
            <button type="button" className="button" onClick={() => setSources([...sources, emptySource])}>
              Add a source
            </button>
          ) : null}
        </div>
      ) : null}
      {kind === "value" || kind === "gauge" ? (
        <div className="widget-form__row">
          <label className="field">
            <span className="field__label">Unit</span>
            <input value={unit} onChange={(e) => setUnit(e.target.value)} maxLength={20} />
          </label>
          {kind === "gauge" ? (
            <>
              <label className="field">
                <span className="field__label">Minimum</span>
                <input inputMode="decimal" value={min} onChange={(e) => setMin(e.target.value)} required />
              </label>
              <label className="field">
                <span className="field__label">Maximum</span>
                <input inputMode="decimal" value={max} onChange={(e) => setMax(e.target.value)} required />
              </label>
            </>
          ) : null}
          <label className="field">
            <span className="field__label">Bad when</span>
            <select value={direction} onChange={(e) => setDirection(e.target.value as Thresholds["direction"])}>
              <option value="above">at or above the threshold</option>
              <option value="below">at or below the threshold</option>
            </select>
          </label>
          <label className="field">
            <span className="field__label">Warning threshold</span>
            <input inputMode="decimal" value={warning} onChange={(e) => setWarning(e.target.value)} />
          </label>
          <label className="field">
            <span className="field__label">Critical threshold</span>
            <input inputMode="decimal" value={critical} onChange={(e) => setCritical(e.target.value)} />
          </label>
        </div>
      ) : null}
      {kind === "device-status" ? (
        <label className="field">
          <span className="field__label">Tag</span>
          <input value={tag} onChange={(e) => setTag(e.target.value)} required />
        </label>
      ) : null}
      {kind === "retained" || kind === "alerts" ? (
        <label className="field">
          <span className="field__label">{kind === "alerts" ? "Device id (empty: every device)" : "Device id"}</span>
          <input value={deviceId} onChange={(e) => setDeviceId(e.target.value)} required={kind === "retained"} />
        </label>
      ) : null}
      {error ? (
        <p className="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="widget-form__actions">
        <button type="submit" className="button button--primary">
          {initial ? "Save widget" : "Add widget"}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
