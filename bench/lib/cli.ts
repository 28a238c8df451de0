// Option parsing for the benchmark scenarios: strict, with one clear line per mistake.
import { parseArgs } from "node:util";

export class BenchUsageError extends Error {
  override name = "BenchUsageError";
}

export type OptionSpec = Record<string, { default: string; describe: string }>;

export function parseScenarioOptions(name: string, argv: string[], spec: OptionSpec): Record<string, string> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(Object.keys(spec).map((key) => [key, { type: "string" as const }])),
    });
    return Object.fromEntries(Object.entries(spec).map(([key, { default: fallback }]) => [key, values[key] ?? fallback]));
  } catch (error) {
    throw new BenchUsageError(
      `${(error as Error).message.replace(/\. (To specify|This command does not take).*$/s, "")}\n${usage(name, spec)}`,
    );
  }
}

export function usage(name: string, spec: OptionSpec): string {
  return [
    `Usage: pnpm bench ${name} [options]`,
    ...Object.entries(spec).map(([key, { default: d, describe }]) => `  --${key.padEnd(20)} ${describe} (default ${d || "none"})`),
  ].join("\n");
}

export function positiveInt(name: string, value: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw new BenchUsageError(`--${name} must be a whole number of at least ${min} (got ${JSON.stringify(value)})`);
  return Number(value);
}

export function positiveNumber(name: string, value: string): number {
  const number = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(number > 0)) throw new BenchUsageError(`--${name} must be a positive number (got ${JSON.stringify(value)})`);
  return number;
}

export function qosList(name: string, value: string): (0 | 1)[] {
  const list = value.split(",").map((v) => v.trim());
  if (list.length === 0 || list.some((v) => v !== "0" && v !== "1"))
    throw new BenchUsageError(`--${name} must be 0, 1 or a list like 1,0 (got ${JSON.stringify(value)})`);
  return list.map(Number) as (0 | 1)[];
}

export function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw new BenchUsageError(`--${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(value)})`);
  return value as T;
}

export function subsetOf<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
  const list = value.split(",").map((v) => v.trim());
  const bad = list.filter((v) => !allowed.includes(v as T));
  if (bad.length)
    throw new BenchUsageError(`--${name} takes a comma-separated list of ${allowed.join(", ")} (got ${JSON.stringify(bad.join(","))})`);
  return list as T[];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const log = (line: string) => console.log(`bench: ${line}`);
