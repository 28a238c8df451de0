// How the device page writes chart ticks, numbers and durations for people (dates and
// clock times: lib/format.ts).
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

/** A length of time, rounded to the unit people would use for it: 12 s, 34 min, 5 h. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${formatNumber(Math.round(ms / 100) / 10)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${formatNumber(Math.round(ms / 360_000) / 10)} h`;
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
