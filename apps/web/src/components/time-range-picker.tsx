// The one time-range control: last hour, day or week, or a custom range checked before use.
import { useId, useState, type FormEvent } from "react";
import { presetRanges, type PresetRange, type TimeRange } from "../lib/time-range.ts";

/** `datetime-local` value (local time, minutes) for an instant. */
function localInputValue(time: number): string {
  const date = new Date(time);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

type Choice = PresetRange | "custom";

export function TimeRangePicker({ value, onChange }: { value: TimeRange; onChange: (range: TimeRange) => void }) {
  const name = useId();
  const [choice, setChoice] = useState<Choice>(value.kind === "preset" ? value.preset : "custom");
  const [customFrom, setCustomFrom] = useState(() => localInputValue(Date.now() - 3_600_000));
  const [customTo, setCustomTo] = useState(() => localInputValue(Date.now()));
  const [error, setError] = useState<string | null>(null);

  const choose = (next: Choice) => {
    setChoice(next);
    setError(null);
    if (next !== "custom") onChange({ kind: "preset", preset: next });
  };

  const applyCustom = (event: FormEvent) => {
    event.preventDefault();
    const from = new Date(customFrom);
    const to = new Date(customTo);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return setError("Enter both a start and an end.");
    if (from >= to) return setError("The start must be before the end.");
    setError(null);
    onChange({ kind: "custom", from: from.toISOString(), to: to.toISOString() });
  };

  return (
    <div className="time-range">
      <fieldset className="range-picker">
        <legend className="field__label">Time range</legend>
        {(Object.keys(presetRanges) as PresetRange[]).map((preset) => (
          <label key={preset} className="range-picker__option">
            <input type="radio" name={name} checked={choice === preset} onChange={() => choose(preset)} />
            {presetRanges[preset].label}
          </label>
        ))}
        <label className="range-picker__option">
          <input type="radio" name={name} checked={choice === "custom"} onChange={() => choose("custom")} />
          Custom
        </label>
      </fieldset>
      {choice === "custom" ? (
        <form className="custom-range" onSubmit={applyCustom} aria-label="Custom time range">
          <label className="field">
            <span className="field__label">From</span>
            <input type="datetime-local" value={customFrom} onChange={(event) => setCustomFrom(event.target.value)} required />
          </label>
          <label className="field">
            <span className="field__label">To</span>
            <input type="datetime-local" value={customTo} onChange={(event) => setCustomTo(event.target.value)} required />
          </label>
          <button type="submit" className="button">
            Show range
          </button>
          {error ? (
            <p className="notice notice--error custom-range__error" role="alert">
              {error}
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}
