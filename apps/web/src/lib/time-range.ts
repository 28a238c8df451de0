// The time ranges every history view offers: "the last hour, day or week" (ending whenever the
// data is fetched, so a refetch moves with the clock) or a fixed custom range.

export const presetRanges = {
  hour: { label: "Last hour", ms: 3_600_000 },
  day: { label: "Last day", ms: 86_400_000 },
  week: { label: "Last week", ms: 7 * 86_400_000 },
} as const;
export type PresetRange = keyof typeof presetRanges;

export type TimeRange = { kind: "preset"; preset: PresetRange } | { kind: "custom"; from: string; to: string };

export const LAST_HOUR: TimeRange = { kind: "preset", preset: "hour" };

/** The range as epoch ms: a preset ends at `now`. */
export function resolveTimeRange(range: TimeRange, now = Date.now()): { from: number; to: number } {
  if (range.kind === "custom") return { from: Date.parse(range.from), to: Date.parse(range.to) };
  return { from: now - presetRanges[range.preset].ms, to: now };
}

/** The range as API query parameters. Presets leave `to` out: the server's now ends them. */
export function rangeParams(range: TimeRange, now = Date.now()): { from: string; to?: string } {
  if (range.kind === "custom") return { from: range.from, to: range.to };
  return { from: new Date(now - presetRanges[range.preset].ms).toISOString() };
}

/** A stable key for caches and queries. */
export function rangeKey(range: TimeRange): string {
  return range.kind === "preset" ? range.preset : `${range.from}/${range.to}`;
}
