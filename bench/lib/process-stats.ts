// CPU and memory of a process under test, read from /proc (Linux): the benchmarks cannot
// instrument the brokers, so they observe them from outside, equally for every target.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessSample {
  /** user + system CPU seconds so far */
  cpuSeconds: number;
  rssBytes: number;
  at: number;
}

export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces: fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    return { cpuSeconds: cpuTicks / clockTicks(), rssBytes: rssKb * 1024, at: performance.now() };
  } catch {
    return null;
  }
}

export interface ProcessUsage {
  /** Average CPU over the window, in % of one core (200% = two cores busy). */
  cpuPercent: number | null;
  rssStartMb: number | null;
  rssEndMb: number | null;
  rssPeakMb: number | null;
}

/** Samples a process every `intervalMs` from start() to stop(): average CPU and peak RSS. */
export class ProcessMonitor {
  private first: ProcessSample | null = null;
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pid: number,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.first = sampleProcess(this.pid);
    this.peak = this.first?.rssBytes ?? 0;
    this.timer = setInterval(() => {
      const sample = sampleProcess(this.pid);
      if (sample && sample.rssBytes > this.peak) this.peak = sample.rssBytes;
    }, this.intervalMs);
  }

  stop(): ProcessUsage {
    clearInterval(this.timer);
    const last = sampleProcess(this.pid);
    const mb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 1048576) * 10) / 10);
    if (last && last.rssBytes > this.peak) this.peak = last.rssBytes;
    const seconds = this.first && last ? (last.at - this.first.at) / 1000 : 0;
    return {
      cpuPercent: this.first && last && seconds > 0 ? Math.round(((last.cpuSeconds - this.first.cpuSeconds) / seconds) * 1000) / 10 : null,
      rssStartMb: mb(this.first?.rssBytes),
      rssEndMb: mb(last?.rssBytes),
      rssPeakMb: this.first ? mb(this.peak) : null,
    };
  }
}

/** The soft limit on open files of this process (children inherit it), or null off Linux. */
export function openFileLimit(): number | null {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
    return soft === "unlimited" ? Infinity : soft ? Number(soft) : null;
  } catch {
    return null;
  }
}
