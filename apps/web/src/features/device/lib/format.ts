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
