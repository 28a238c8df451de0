import { useId, useState, type FormEvent } from "react";
import { isValidTopicFilter } from "@fleetwatch/contracts";

export const filterRule = "+ matches one level and # all levels below; each must be a whole level, and # only the last.";

/** The topic filter input: checked as MQTT checks it before it is subscribed. */
export function FilterForm({ filter, onApply }: { filter: string; onApply: (filter: string) => void }) {
  const [draft, setDraft] = useState(filter);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const next = draft.trim();
    if (!isValidTopicFilter(next)) {
      setError(
        next === "" ? "Enter a topic filter, e.g. devices/+/telemetry or #." : `"${next}" is not a valid topic filter. ${filterRule}`,
      );
      return;
    }
    setError(null);
    onApply(next);
  };

  return (
    <form className="explorer-filter" onSubmit={submit} noValidate>
      <div className="field explorer-filter__field">
        <label className="field__label" htmlFor={inputId}>
          Topic filter
        </label>
        <div className="explorer-filter__row">
          <input
            id={inputId}
            name="filter"
            value={draft}
            onChange={(event) => {
              setDraft(event.target.value);
              setError(null);
            }}
            spellCheck={false}
            autoCapitalize="none"
            autoComplete="off"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${errorId} ${hintId}` : hintId}
          />
          <button type="submit" className="button button--primary">
            Subscribe
          </button>
        </div>
        {error ? (
          <p className="field__error" id={errorId} role="alert">
            {error}
          </p>
        ) : null}
        <p className="field__hint" id={hintId}>
          {filterRule}
        </p>
      </div>
    </form>
  );
}
