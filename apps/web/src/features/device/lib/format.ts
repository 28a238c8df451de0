// How the device page writes times, numbers and payloads for people.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayAndHour = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

export function formatDateTime(time: string | number): string {
  return dateTime.format(typeof time === "string" ? Date.parse(time) : time);
}

export function formatClock(time: number): string {
  return clock.format(time);
}

/** Chart ticks: the time of day within a day, the date and hour beyond. */
export function tickFormatter(spanMs: number): (time: number) => string {
  return spanMs > 86_400_000 ? (time) => dayAndHour.format(time) : (time) => clock.format(time);
}

export function formatNumber(value: number): string {
  return number.format(value);
}

/** A length of time, rounded to the unit people would use for it: 12 s, 34 min, 5 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${formatNumber(Math.round(ms / 100) / 10)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${formatNumber(Math.round(ms / 360_000) / 10)} h`;
}

/** JSON indented for reading; anything else as it came. */
export function prettyText(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
