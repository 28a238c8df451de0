// The load generator's coordinator: forks worker processes, gives each a slice of the
// devices, and merges their counts and latency histograms. Several processes, so that the
// generator uses every core it is given instead of one event loop becoming the bottleneck.
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { DeviceCredentials } from "@fleetwatch/simulator";
import { Histogram } from "./histogram.ts";
import type { ConnectReport, FromWorker, LoadMode, ToWorker, WorkerClient, WorkerReport } from "./protocol.ts";

const workerScript = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** Ephemeral ports per (source address, destination): Linux's default range 32768-60999. */
export const CONNECTIONS_PER_SOURCE_ADDRESS = 28_000;

export interface LoadOptions {
  host: string;
  port: number;
  credentials: DeviceCredentials[];
  qos: 0 | 1;
  workers?: number;
  keepaliveSeconds?: number;
  connectConcurrency?: number;
  seed?: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  /** From the first connection attempt to the last CONNACK. */
  seconds: number;
  connack: Histogram;
  firstError?: string;
}

/** The workers' reports merged: the same counts, with one latency histogram for all. */
export type LoadReport = Omit<WorkerReport, "latency"> & { latency: Histogram };

/** The source address of the i-th connection: beyond ~28,000 per address, the next 127.x address. */
export function sourceAddress(host: string, index: number): string | undefined {
  const group = Math.floor(index / CONNECTIONS_PER_SOURCE_ADDRESS);
  if (group === 0 || !/^127\./.test(host)) return undefined;
  return `127.0.${Math.floor(group / 250)}.${(group % 250) + 1}`;
}

/** A request to a worker, before it gets its id. */
type WorkerRequest = ToWorker extends infer T ? (T extends { requestId: number } ? Omit<T, "requestId"> : never) : never;

export class LoadGenerator {
  private nextRequest = 1;
  private readonly pending = new Map<number, { resolve: (message: FromWorker) => void; reject: (error: Error) => void }>();

  private constructor(private readonly workers: ChildProcess[]) {
    for (const worker of workers) {
      worker.on("message", (message: FromWorker) => {
        if (message.type === "fatal") {
          for (const { reject } of this.pending.values()) reject(new Error(`load worker failed: ${message.message}`));
          this.pending.clear();
          return;
        }
        this.pending.get(message.requestId)?.resolve(message);
        this.pending.delete(message.requestId);
      });
      worker.once("exit", (code) => {
        if (code !== 0 && code !== null)
          for (const { reject } of this.pending.values()) reject(new Error(`a load worker exited with code ${code}`));
      });
    }
  }

  static async start(options: LoadOptions): Promise<LoadGenerator> {
    const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), options.credentials.length));
    const slices: WorkerClient[][] = Array.from({ length: count }, () => []);
    options.credentials.forEach((credentials, index) => {
      const localAddress = sourceAddress(options.host, index);
      slices[index % count]!.push({ ...credentials, ...(localAddress ? { localAddress } : {}) });
    });
    const workers = slices.map((clients, workerIndex) => {
      const worker = fork(workerScript, [], {
        execArgv: ["--conditions=@fleetwatch/source", "--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      const init: WorkerRequest = {
        type: "init",
        spec: {
          workerIndex,
          host: options.host,
          port: options.port,
          clients,
          qos: options.qos,
          keepaliveSeconds: options.keepaliveSeconds ?? 60,
          connectConcurrency: Math.max(1, Math.ceil((options.connectConcurrency ?? 500) / count)),
          seed: options.seed ?? 1,
        },
      };
      return { worker, init };
    });
    const generator = new LoadGenerator(workers.map((w) => w.worker));
    // Workers load their code first; the connect storm must not include their start-up.
    try {
      await Promise.all(workers.map(({ worker, init }) => generator.request(worker, init)));
    } catch (error) {
      generator.kill();
      throw error;
    }
    return generator;
  }

  private request(worker: ChildProcess, message: WorkerRequest): Promise<FromWorker> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      worker.send({ ...message, requestId });
    });
  }

  private all(message: WorkerRequest): Promise<FromWorker[]> {
    return Promise.all(this.workers.map((worker) => this.request(worker, message)));
  }

  /** Connects every client (each worker a bounded number at a time) and waits for all CONNACKs or failures. */
  async connect(): Promise<ConnectResult> {
    const started = Date.now();
    const replies = (await this.all({ type: "connect" })) as Extract<FromWorker, { type: "connected" }>[];
    const connack = new Histogram();
    const reports: ConnectReport[] = replies.map((r) => r.report);
    for (const report of reports) connack.add(report.connack);
    const firstError = reports.find((r) => r.firstError)?.firstError;
    return {
      connected: reports.reduce((sum, r) => sum + r.connected, 0),
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
      seconds: (Math.max(...reports.map((r) => r.lastConnackAt)) - started) / 1000,
      connack,
      ...(firstError ? { firstError } : {}),
    };
  }

  async run(mode: LoadMode): Promise<void> {
    await this.all({ type: "run", mode });
  }

  /** Starts the measurement window: counters and histograms restart from zero. */
  async window(): Promise<void> {
    await this.all({ type: "window" });
  }

  async report(): Promise<LoadReport> {
    return merge((await this.all({ type: "report" })) as Extract<FromWorker, { type: "report" }>[]);
  }

  /** Stops publishing, waits briefly for outstanding acknowledgements, disconnects; the final window's report. */
  async stop(): Promise<LoadReport> {
    const replies = (await this.all({ type: "stop" })) as Extract<FromWorker, { type: "report" }>[];
    await Promise.all(
      this.workers.map((worker) => (worker.exitCode !== null ? Promise.resolve() : new Promise((resolve) => worker.once("exit", resolve)))),
    );
    return merge(replies);
  }

  kill(): void {
    for (const worker of this.workers) if (worker.exitCode === null) worker.kill("SIGKILL");
  }
}

function merge(replies: { report: WorkerReport }[]): LoadReport {
  const latency = new Histogram();
  const total: LoadReport = { sent: 0, acked: 0, errors: 0, skipped: 0, disconnects: 0, connected: 0, latency };
  for (const { report } of replies) {
    total.sent += report.sent;
    total.acked += report.acked;
    total.errors += report.errors;
    total.skipped += report.skipped;
    total.disconnects += report.disconnects;
    total.connected += report.connected;
    latency.add(report.latency);
    if (report.firstError && !total.firstError) total.firstError = report.firstError;
  }
  return total;
}
