// Benchmark results: a JSON file per run (bench/results/<name>-<timestamp>.json) and a short
// Markdown summary (bench/results/<name>-latest.md). Every result states the machine and the
// run's parameters, because absolute numbers only mean something next to them.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { TargetResult } from "./targets.ts";

export const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  kernel: string;
  commit: string | null;
}

export function machine(): Machine {
  let commit: string | null = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    // Not a git checkout: the report simply names no commit.
  }
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round((totalmem() / 1073741824) * 10) / 10,
    node: process.version,
    kernel: release(),
    commit,
  };
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export interface BenchResult {
  name: string;
  startedAt: string;
  machine: Machine;
  parameters: Record<string, unknown>;
  /** Everything measured, for the JSON file. */
  figures: Record<string, unknown>;
  tables: Table[];
  targets: TargetResult[];
  notes: string[];
}

export async function writeResult(result: BenchResult): Promise<{ json: string; markdown: string }> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, "-");
  const json = `${resultsDir}${result.name}-${stamp}.json`;
  const markdown = `${resultsDir}${result.name}-latest.md`;
  await writeFile(json, JSON.stringify(result, null, 2) + "\n");
  await writeFile(markdown, renderMarkdown(result));
  return { json, markdown };
}

const cell = (value: string | number | null) => (value === null ? "n/a" : typeof value === "number" ? formatNumber(value) : value);

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3).replace(/\.?0+$/, "") || "0";
}

function markdownTable(table: Table): string {
  return [
    `### ${table.title}`,
    "",
    `| ${table.columns.join(" | ")} |`,
    `|${table.columns.map(() => " --- ").join("|")}|`,
    ...table.rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
    "",
  ].join("\n");
}

export function renderMarkdown(result: BenchResult): string {
  const m = result.machine;
  const targets: Table = {
    title: "Targets",
    columns: ["target", "measure", "actual", "wanted", "met"],
    rows: result.targets.map((t) => [
      t.name,
      t.measure,
      t.actual === null ? null : `${formatNumber(t.actual)}${t.unit}`,
      `${t.comparison} ${formatNumber(t.target)}${t.unit}`,
      t.met === null ? `n/a${t.note ? ` (${t.note})` : ""}` : t.met ? "yes" : "no",
    ]),
  };
  return [
    `## Benchmark: ${result.name} (${result.startedAt})`,
    "",
    `Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGb} GB, Node ${m.node}, Linux ${m.kernel}${m.commit ? `, commit ${m.commit}` : ""}.`,
    `Parameters: ${Object.entries(result.parameters)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ")}.`,
    "",
    ...result.tables.map(markdownTable),
    ...(result.targets.length ? [markdownTable(targets)] : []),
    ...(result.notes.length ? ["Notes:", "", ...result.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
}

/** The Markdown, readable in a terminal too. */
export function printResult(result: BenchResult, files: { json: string; markdown: string }): void {
  console.log(`\n${renderMarkdown(result)}`);
  console.log(`results: ${files.json}\n         ${files.markdown}`);
}
