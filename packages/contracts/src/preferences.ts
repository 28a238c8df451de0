// HTTP contracts of an operator's own dashboard preferences, kept with their account.
import { Type, type Static } from "typebox";

export const ThemePreference = Type.Union([Type.Literal("system"), Type.Literal("light"), Type.Literal("dark")], {
  description: "system follows the operating system's light or dark setting",
});
export type ThemePreference = Static<typeof ThemePreference>;

/** GET /api/preferences: the signed-in operator's preferences. */
export const Preferences = Type.Object({ theme: ThemePreference }, { $id: "Preferences" });
export type Preferences = Static<typeof Preferences>;

/** PATCH /api/preferences: the preferences to change. */
export const PreferencesUpdate = Type.Object({ theme: Type.Optional(ThemePreference) }, { additionalProperties: false, minProperties: 1 });
export type PreferencesUpdate = Static<typeof PreferencesUpdate>;
