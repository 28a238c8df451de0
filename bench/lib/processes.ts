// The processes under test (Fleetwatch, bare aedes, Mosquitto, the DIY writer), each in its
// own OS process so that its CPU and memory can be read from /proc and it competes with the
// load generator on equal terms.
import { spawn, type ChildProcess } from "node:child_process";

export interface TargetProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

export function spawnTarget(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; ipc?: boolean } = {},
): TargetProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    // Keep the tail only: a chatty process must not grow the benchmark's memory.
    output = (output + chunk.toString()).slice(-200_000);
    for (const listener of listeners) listener();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  spawned.catch(() => undefined);
  return {
    name,
    child,
    get pid() {
      return child.pid ?? -1;
    },
    output: () => output,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    waitForOutput(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            done();
            resolve(match);
          }
        };
        const done = () => {
          listeners.delete(check);
          clearTimeout(timer);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: timed out waiting for ${pattern}; output:\n${output.slice(-3000)}`));
        }, timeoutMs);
        void spawned.catch((error: Error) => {
          done();
          reject(new Error(`${name}: could not start ${command}: ${error.message}`));
        });
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          done();
          reject(new Error(`${name} exited (${code}) before printing ${pattern}; output:\n${output.slice(-3000)}`));
        });
        listeners.add(check);
        check();
      });
    },
  };
}

/** Node with the workspace's TypeScript sources (tsx), for the benchmark's own helper processes. */
export const tsNode = (script: string, args: string[] = []) =>
  [process.execPath, ["--conditions=@fleetwatch/source", "--import", "tsx", script, ...args]] as const;

export async function waitForHttp(url: string, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited?.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    if (
      await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(gone ? `the process serving ${url} exited` : `${url} did not answer 200 within ${timeoutMs / 1000} s`);
}
