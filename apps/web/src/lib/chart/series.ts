// What a time-series chart draws, decided before it is drawn, so that it never shows what a
// device did not send: points joined by straight segments only (a curve would swing past the
// readings), and a break wherever the data has a hole, instead of a line across the silence.

export interface ChartPoint {
  /** Epoch ms where the point is drawn: a reading's own time, or the mean time of a bucket's readings. */
  t: number;
  /** A reading, or the average of a bucket's readings. */
  v: number;
  /** A bucket's lowest and highest reading (absent for a single reading). */
  min?: number;
  max?: number;
  /** Readings behind the point (1 for a single reading). */
  count?: number;
}

/** A row of the drawn series: a point, or a break (null values end the line and the band there). */
export interface ChartRow {
  t: number;
  v: number | null;
  /** The min–max band at this point, [v, v] for a single reading. */
  band: [number, number] | null;
  point: ChartPoint | null;
}

/**
 * The longest step the line may take between two neighbouring points: about two bucket
 * widths, or two of the data's usual spacings when a device reports less often than once a
 * bucket (otherwise a device reporting every 30 s on 15 s buckets would be all dots).
 */
export function breakAfterMs(points: readonly ChartPoint[], bucketMs = 0): number {
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) steps.push((points[i] as ChartPoint).t - (points[i - 1] as ChartPoint).t);
  steps.sort((a, b) => a - b);
  const usual = steps.length > 0 ? (steps[Math.floor((steps.length - 1) / 2)] as number) : 0;
  return 2 * Math.max(bucketMs, usual);
}

/** The rows to draw, in time order, with a break between neighbours further apart than `breakAfter` ms. */
export function chartRows(points: readonly ChartPoint[], breakAfter: number): ChartRow[] {
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const rows: ChartRow[] = [];
  let previous: ChartPoint | undefined;
  for (const point of sorted) {
    if (previous && point.t - previous.t > breakAfter) rows.push({ t: (previous.t + point.t) / 2, v: null, band: null, point: null });
    rows.push({ t: point.t, v: point.v, band: [point.min ?? point.v, point.max ?? point.v], point });
    previous = point;
  }
  return rows;
}

/** A point with no drawn neighbour on either side: without a dot it would not show at all. */
export function isIsolated(rows: readonly ChartRow[], index: number): boolean {
  return rows[index]?.point != null && rows[index - 1]?.point == null && rows[index + 1]?.point == null;
}

/** The lowest and highest value a chart must show: band edges included. */
export function valueExtent(points: readonly ChartPoint[], band: boolean): [number, number] | null {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const point of points) {
    low = Math.min(low, band ? (point.min ?? point.v) : point.v);
    high = Math.max(high, band ? (point.max ?? point.v) : point.v);
  }
  return points.length > 0 ? [low, high] : null;
}
