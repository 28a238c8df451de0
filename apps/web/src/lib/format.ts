// How every page writes time for people: one date-and-time style, one clock style and one
// way to say a length of time.
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

const durationUnits = [
  { unit: "d", ms: 86_400_000 },
  { unit: "h", ms: 3_600_000 },
  { unit: "min", ms: 60_000 },
  { unit: "s", ms: 1_000 },
] as const;

/**
 * A length of time in the largest unit it reaches: 500 ms, 1.5 s, 34 min, 2 d. One decimal
 * below ten of that unit, whole numbers from ten on.
 */
export function formatDuration(ms: number): string {
  const { unit, ms: size } = durationUnits.find((candidate) => ms >= candidate.ms) ?? { unit: "ms", ms: 1 };
  const value = ms / size;
  return `${unit === "ms" || value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${unit}`;
}
