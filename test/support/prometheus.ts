// Debian's real Prometheus and promtool for tests (.ci/run installs the `prometheus` package).
// PROMETHEUS_PATH and PROMTOOL_PATH override where they are.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { findFreePort } from "./network.ts";
import { waitFor } from "./wait.ts";

export const prometheusPath = process.env.PROMETHEUS_PATH ?? "prometheus";
export const promtoolPath = process.env.PROMTOOL_PATH ?? "promtool";

const run = promisify(execFile);

/** Runs promtool; resolves with its output, rejects with it (stdout and stderr) when it fails. */
export async function promtool(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(promtoolPath, args, (error, stdout, stderr) =>
      error ? reject(new Error(`promtool ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`)) : resolve(`${stdout}${stderr}`),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface RunningPrometheus {
  url: string;
  /** The value of a PromQL query with a single result (NaN when it has none). */
  query(promql: string): Promise<number>;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) at /metrics every second, with its own data folder. */
export async function startPrometheus(targets: string[]): Promise<RunningPrometheus> {
  await run(prometheusPath, ["--version"]).catch((error: unknown) => {
    throw new Error(`${prometheusPath} is not runnable (apt-get install prometheus, or set PROMETHEUS_PATH): ${String(error)}`);
  });
  const dir = await mkdtemp(join(tmpdir(), "fleetwatch-prometheus-"));
  const port = await findFreePort();
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "scrape_configs:",
    "  - job_name: fleetwatch",
    "    static_configs:",
    `      - targets: [${targets.map((target) => JSON.stringify(target)).join(", ")}]`,
    "",
  ].join("\n");
  await writeFile(join(dir, "prometheus.yml"), config);
  const child = spawn(
    prometheusPath,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      () =>
        fetch(`${url}/-/ready`).then(
          (response) => response.status === 200,
          () => false,
        ),
      "Prometheus to be ready",
      60_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${String(error)}\n${output}`, { cause: error });
  }
  return {
    url,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; data?: { result: { value: [number, string] }[] }; error?: string };
      if (body.status !== "success") throw new Error(`Prometheus query ${promql} failed: ${body.error}`);
      const result = body.data?.result ?? [];
      return result.length === 1 ? Number(result[0]!.value[1]) : NaN;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample in Prometheus' text format (undefined when absent). Labels must all match. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}
