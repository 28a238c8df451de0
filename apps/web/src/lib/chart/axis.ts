// Chart axes with "nice" ticks (1, 2 or 5 × a power of ten; whole seconds, minutes, hours,
// days) and labels written with exactly the precision the tick step needs, so no two labels
// read the same and none carries digits the scale cannot show.
import { scaleLinear, scaleTime } from "d3-scale";

export interface Axis {
  domain: [number, number];
  ticks: number[];
  format: (value: number) => string;
}

/** Decimals a tick step needs: 0 for 5, 1 for 0.5, 2 for 0.02. */
export function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  // The nudge absorbs float noise (0.30000000000000004 → 1 decimal, not 17).
  return Math.min(MAX_DECIMALS, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Intl.NumberFormat takes at most 100; beyond 20 no sensor is that precise. */
const MAX_DECIMALS = 20;

/** A value axis over [low, high] with about `count` nice ticks; the domain runs from the first tick to the last. */
export function valueAxis(low: number, high: number, count: number): Axis {
  let [a, b] = [low, high];
  // A flat line (or one flat but for float noise: no sensor resolves 1e-12) still needs a scale:
  // a little room above and below.
  if (!(b - a > Math.max(Math.abs(a), Math.abs(b)) * 1e-9) || b - a < 1e-12) {
    const pad = a === 0 ? 1 : Math.max(Math.abs(a) * 0.05, 1e-9);
    [a, b] = [a - pad, b + pad];
  }
  const scale = scaleLinear().domain([a, b]).nice(count);
  const ticks = scale.ticks(count);
  const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : Math.abs(b - a);
  const decimals = decimalsFor(step);
  const number = new Intl.NumberFormat(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  const [start, end] = scale.domain() as [number, number];
  // nice() may round a hair inside a value at the edge of float precision: never cut the data.
  return { domain: [Math.min(start, a), Math.max(end, b)], ticks, format: (value) => number.format(value) };
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 86_400_000;
const dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayHourFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const minuteFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const secondFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const millisecondFormat = new Intl.DateTimeFormat(undefined, { minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3 });

/** A time axis over [from, to] with about `count` ticks on whole units of local time. */
export function timeAxis(from: number, to: number, count: number): Axis {
  const end = to > from ? to : from + MINUTE;
  const ticks = scaleTime()
    .domain([new Date(from), new Date(end)])
    .ticks(Math.max(1, count))
    .map((tick) => tick.getTime());
  const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : end - from;
  const formatter =
    step >= DAY
      ? dayFormat
      : end - from > DAY
        ? dayHourFormat
        : step >= MINUTE
          ? minuteFormat
          : step >= SECOND
            ? secondFormat
            : millisecondFormat;
  return { domain: [from, end], ticks, format: (value) => formatter.format(value) };
}
