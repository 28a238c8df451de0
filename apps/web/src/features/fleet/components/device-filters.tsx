import { useEffect, useId, useState, type KeyboardEvent } from "react";
import type { DeviceFilters } from "../api/get-device-pages.ts";
import { deviceStatusLabels } from "../../../components/device-status.tsx";
import { FormField } from "../../../components/form-field.tsx";

/** Typing settles for this long before the table is searched. */
const searchDebounceMs = 250;

interface DeviceFiltersProps {
  filters: DeviceFilters;
  onChange: (change: Partial<DeviceFilters>) => void;
  /** Tags of the loaded devices, offered as suggestions. */
  knownTags: readonly string[];
}

/**
 * A form with two text fields and no submit button has no implicit submission on Enter
 * (HTML's rule); Enter in either field submits it, validation included.
 */
function submitOnEnter(event: KeyboardEvent<HTMLInputElement>) {
  if (event.key !== "Enter") return;
  event.preventDefault();
  event.currentTarget.form?.requestSubmit();
}

export function DeviceFilterBar({ filters, onChange, knownTags }: DeviceFiltersProps) {
  const tagsListId = useId();
  const [search, setSearch] = useState(filters.q);
  const [tag, setTag] = useState(filters.tag);

  // The address changed from elsewhere (Back, a count's link, "Clear filters"): show it.
  // Adjusted while rendering, as React recommends for state that follows a prop, rather than
  // in an effect that would render twice.
  const [shown, setShown] = useState({ q: filters.q, tag: filters.tag });
  if (shown.q !== filters.q || shown.tag !== filters.tag) {
    setShown({ q: filters.q, tag: filters.tag });
    if (shown.q !== filters.q) setSearch(filters.q);
    if (shown.tag !== filters.tag) setTag(filters.tag);
  }

  useEffect(() => {
    if (search.trim() === filters.q) return;
    const timer = setTimeout(() => onChange({ q: search }), searchDebounceMs);
    return () => clearTimeout(timer);
  }, [search, filters.q, onChange]);

  const active = Boolean(filters.q || filters.status || filters.tag);

  return (
    <form
      role="search"
      aria-label="Filter devices"
      className="fleet-filters"
      onSubmit={(event) => {
        // Enter searches at once instead of waiting for the debounce.
        event.preventDefault();
        onChange({ q: search, tag });
      }}
    >
      <FormField label="Search" className="fleet-filters__search">
        {(control) => (
          <input
            {...control}
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            onKeyDown={submitOnEnter}
            placeholder="Device id or name"
            autoComplete="off"
            maxLength={200}
          />
        )}
      </FormField>
      <FormField label="Status">
        {(control) => (
          <select
            {...control}
            value={filters.status}
            onChange={(event) => onChange({ status: event.target.value as DeviceFilters["status"] })}
          >
            <option value="">Any status</option>
            {(Object.keys(deviceStatusLabels) as (keyof typeof deviceStatusLabels)[]).map((status) => (
              <option key={status} value={status}>
                {deviceStatusLabels[status]}
              </option>
            ))}
          </select>
        )}
      </FormField>
      <FormField label="Tag">
        {(control) => (
          <>
            <input
              {...control}
              list={tagsListId}
              value={tag}
              onChange={(event) => setTag(event.target.value)}
              onKeyDown={submitOnEnter}
              // A tag is a whole word, not a substring: apply it when the field is left or Enter pressed.
              onBlur={(event) => {
                if (event.currentTarget.validity.valid && tag.trim() !== filters.tag) onChange({ tag });
              }}
              // The API's tag rule (contracts/devices.ts): the browser explains a bad one on Enter.
              pattern="\s*[^\s,;]*\s*"
              title="One tag, without spaces, commas or semicolons"
              placeholder="Any tag"
              autoComplete="off"
              maxLength={64}
            />
            <datalist id={tagsListId}>
              {knownTags.map((known) => (
                <option key={known} value={known} />
              ))}
            </datalist>
          </>
        )}
      </FormField>
      {active ? (
        <button type="button" className="button fleet-filters__clear" onClick={() => onChange({ q: "", status: "", tag: "" })}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}
