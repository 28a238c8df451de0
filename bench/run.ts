// `pnpm bench <name> [options]`: runs one benchmark, prints its figures and writes
// bench/results/<name>-<timestamp>.json and bench/results/<name>-latest.md.
import { BenchUsageError, usage } from "./lib/cli.ts";
import { printResult, writeResult, type BenchResult } from "./lib/results.ts";
import { ingest, ingestOptions } from "./scenarios/ingest.ts";
import { latency, latencyOptions } from "./scenarios/latency.ts";
import { connections, connectionsOptions } from "./scenarios/connections.ts";
import { history, historyOptions } from "./scenarios/history.ts";
import { queries, queriesOptions } from "./scenarios/queries.ts";

const scenarios = {
  ingest: {
    run: ingest,
    options: ingestOptions,
    describe: "acked msgs/s, rows/s, ack latency vs bare aedes, Mosquitto + writer, raw COPY",
  },
  latency: { run: latency, options: latencyOptions, describe: "publish → dashboard frame p50/p99 under background load" },
  connections: {
    run: connections,
    options: connectionsOptions,
    describe: "connect storm, CONNACK p99, RSS per connection, idle responsiveness",
  },
  history: { run: history, options: historyOptions, describe: "one-week maxPoints query and one-day CSV export over 10M readings" },
  queries: { run: queries, options: queriesOptions, describe: "Prisma's client against raw pg on the registry's hottest reads" },
} as const;

const [name, ...argv] = process.argv.slice(2);
if (!name || name === "--help" || !(name in scenarios)) {
  console.error(`Usage: pnpm bench <${Object.keys(scenarios).join("|")}> [options]\n`);
  for (const [key, scenario] of Object.entries(scenarios)) console.error(`  ${key.padEnd(12)} ${scenario.describe}`);
  console.error("\n`pnpm bench <name> --help` lists a benchmark's options.");
  process.exit(name && name !== "--help" ? 2 : 0);
}
const scenario = scenarios[name as keyof typeof scenarios];
if (argv.includes("--help")) {
  console.log(usage(name, scenario.options));
  process.exit(0);
}

try {
  const result: BenchResult = await scenario.run(argv);
  printResult(result, await writeResult(result));
  process.exit(0);
} catch (error) {
  if (error instanceof BenchUsageError) {
    console.error(`bench ${name}: ${error.message}`);
    process.exit(2);
  }
  console.error(`bench ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
