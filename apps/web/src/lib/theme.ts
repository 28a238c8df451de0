// How the dashboard applies a theme: `data-theme` on <html> (styles.css reads it; none means
// follow the system), mirrored in localStorage so the next page load paints in the right theme
// before any request (public/theme.js reads the same key). The operator's choice itself is
// kept server-side (/api/preferences), so it follows them to every browser.
import type { ThemePreference } from "@fleetwatch/contracts";

/** Read by public/theme.js too: keep the two in step. */
export const THEME_STORAGE_KEY = "fleetwatch.theme";

export function applyTheme(theme: ThemePreference): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
  try {
    localStorage.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // Storage refused (private mode, quota): the theme still applies for this page.
  }
}
