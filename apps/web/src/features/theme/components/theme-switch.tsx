import { useEffect, useId } from "react";
import type { ThemePreference } from "@fleetwatch/contracts";
import { describeError } from "../../../lib/api-client.ts";
import { applyTheme } from "../../../lib/theme.ts";
import { usePreferences, useUpdatePreferences } from "../api/preferences.ts";

const choices: { value: ThemePreference; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

/** Light, dark or the system's choice, saved with the operator's account. Render it only for a signed-in operator. */
export function ThemeSwitch() {
  const id = useId();
  const preferences = usePreferences();
  const update = useUpdatePreferences();
  // What the switch shows: the change on its way, else the stored choice.
  const theme = update.isPending ? update.variables.theme : preferences.data?.theme;

  useEffect(() => {
    if (theme) applyTheme(theme);
  }, [theme]);

  return (
    <div className="theme-switch">
      {/* A half-filled disc says "theme" to the eye; the label says it to assistive technology. */}
      <label htmlFor={id}>
        <svg className="theme-switch__icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">
          <circle cx="8" cy="8" r="6.5" />
          <path d="M8 1.5a6.5 6.5 0 0 1 0 13z" />
        </svg>
        <span className="visually-hidden">Theme</span>
      </label>
      <select
        id={id}
        value={theme ?? "system"}
        disabled={!preferences.data}
        onChange={(event) => update.mutate({ theme: event.target.value as ThemePreference })}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      {update.error ? (
        <span role="alert" className="account__error">
          Theme not saved: {describeError(update.error)}
        </span>
      ) : null}
    </div>
  );
}
