// How the device page writes chart ticks and numbers for people (dates, clock times and
// durations: lib/format.ts).
import { formatClock } from "../../../lib/format.ts";

const dayAndHour = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

/** Chart ticks: the time of day within a day, the date and hour beyond. */
export function tickFormatter(spanMs: number): (time: number) => string {
  return spanMs > 86_400_000 ? (time) => dayAndHour.format(time) : formatClock;
}

export function formatNumber(value: number): string {
  return number.format(value);
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
