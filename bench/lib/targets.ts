// The product's performance targets, compared with what a run measured. A target is a
// ratio against a baseline measured in the same run, or an absolute bound; either way the
// run prints it and never fails on it (benchmarks inform, tests assert).

export interface TargetResult {
  name: string;
  /** What is compared, e.g. "fleetwatch / bare aedes QoS 1 msgs/s". */
  measure: string;
  actual: number | null;
  comparison: ">=" | "<=";
  target: number;
  unit: string;
  /** null when it could not be measured (say why in `note`). */
  met: boolean | null;
  note?: string;
}

export function evaluate(
  name: string,
  measure: string,
  actual: number | null | undefined,
  comparison: ">=" | "<=",
  target: number,
  unit = "",
  note?: string,
): TargetResult {
  const value = actual === undefined || actual === null || !Number.isFinite(actual) ? null : actual;
  const met = value === null ? null : comparison === ">=" ? value >= target : value <= target;
  return { name, measure, actual: value, comparison, target, unit, met, ...(note ? { note } : {}) };
}

export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator === null || numerator === undefined || !denominator) return null;
  return Math.round((numerator / denominator) * 1000) / 1000;
}

export const TARGETS = {
  ingestVsBareAedes: { comparison: ">=", target: 0.8, describe: "Fleetwatch QoS 1 acked msgs/s ≥ 0.8 × bare aedes" },
  ingestVsDiy: { comparison: ">=", target: 1.0, describe: "Fleetwatch rows/s ≥ 1.0 × Mosquitto + hand-written writer" },
  ingestVsCopy: { comparison: ">=", target: 0.5, describe: "Fleetwatch rows/s ≥ 0.5 × raw COPY" },
  latencyP99Ms: { comparison: "<=", target: 50, describe: "publish → dashboard frame p99 ≤ 50 ms" },
  connectStormSeconds: { comparison: "<=", target: 30, describe: "10,000 connections established within 30 s" },
  connectionsRssMb: { comparison: "<=", target: 1024, describe: "server RSS with 10,000 connections ≤ 1 GB" },
  historyQueryP95Ms: { comparison: "<=", target: 100, describe: "one-week maxPoints=1000 query p95 ≤ 100 ms" },
} as const;
