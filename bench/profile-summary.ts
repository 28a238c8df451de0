// Summarises a V8 CPU profile (from BENCH_CPU_PROF=1) as text: the hottest functions by
// self time and by inclusive time, optionally only for a window before the profile's end
// (the steady state of a benchmark, without start-up, registration and shutdown).
//
//   npx tsx bench/profile-summary.ts <file.cpuprofile> [--from-end 35] [--to-end 3] [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { "from-end": { type: "string" }, "to-end": { type: "string", default: "0" }, top: { type: "string", default: "30" } },
});
if (positionals.length !== 1) {
  console.error("Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [--from-end seconds] [--to-end seconds] [--top n]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0]!, "utf8")) as Profile;
const from = values["from-end"] ? profile.endTime - Number(values["from-end"]) * 1e6 : profile.startTime;
const to = profile.endTime - Number(values["to-end"]) * 1e6;
const top = Number(values.top);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const name = (node: ProfileNode) => {
  const url = node.callFrame.url
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "")
    .replace(/^file:\/\/.*?\/(apps|packages|bench)\//, "$1/");
  return `${node.callFrame.functionName || "(anonymous)"} ${url}${url ? `:${node.callFrame.lineNumber + 1}` : ""}`;
};

const selfTime = new Map<string, number>();
const inclusiveTime = new Map<string, number>();
let total = 0;
let time = profile.startTime;
profile.samples.forEach((id, index) => {
  time += profile.timeDeltas[index] ?? 0;
  if (time < from || time > to) return;
  const delta = profile.timeDeltas[index] ?? 0;
  total += delta;
  const node = byId.get(id)!;
  selfTime.set(name(node), (selfTime.get(name(node)) ?? 0) + delta);
  const seen = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const key = name(byId.get(current)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusiveTime.set(key, (inclusiveTime.get(key) ?? 0) + delta);
  }
});

const print = (title: string, times: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, value] of [...times].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * value) / total).toFixed(1).padStart(6)}%  ${key}`);
};
console.log(`${(total / 1e6).toFixed(1)} s of samples`);
print("self time", selfTime);
print("inclusive time", inclusiveTime);
