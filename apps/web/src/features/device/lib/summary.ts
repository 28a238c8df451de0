import type { TelemetryPoint } from "@fleetwatch/contracts";

export interface RangeSummary {
  min: number;
  max: number;
  /** The mean of every reading in the range, not of the bucket averages. */
  avg: number;
  count: number;
}

/** Min, max, count and average of a downsampled range: bucket averages weighted by their reading counts. */
export function summarize(points: readonly TelemetryPoint[]): RangeSummary | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let count = 0;
  for (const point of points) {
    min = Math.min(min, point.min);
    max = Math.max(max, point.max);
    sum += point.avg * point.count;
    count += point.count;
  }
  return count === 0 ? null : { min, max, avg: sum / count, count };
}
