// How every page writes a moment for people: one date-and-time style and one clock style.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** e.g. "Nov 24, 2026, 11:45:56 PM"; an ISO string or epoch milliseconds. */
export function formatDateTime(time: string | number): string {
  return dateTime.format(typeof time === "string" ? Date.parse(time) : time);
}

/** e.g. "11:45:56 PM": a time of day, for moments within the last hours. */
export function formatClock(time: number): string {
  return clock.format(time);
}
