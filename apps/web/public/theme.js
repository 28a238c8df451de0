// Runs before the dashboard's stylesheet paints (a classic script in <head>): applies the theme
// this browser last used, so a dark-theme user never sees a white flash. The account's stored
// preference is fetched after sign-in and wins (src/lib/theme.ts, which writes this key).
try {
  const theme = localStorage.getItem("fleetwatch.theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // No storage: follow the system until the account's preference arrives.
}
