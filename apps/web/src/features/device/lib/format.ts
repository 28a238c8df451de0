// How the device page writes numbers and JSON for people (dates, clock times and durations:
// lib/format.ts; chart ticks: lib/chart/axis.ts).
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

export function formatNumber(value: number): string {
  return number.format(value);
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
