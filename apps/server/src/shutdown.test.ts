import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { handleShutdownSignals } from "./shutdown.ts";

const quiet = { info() {}, warn() {}, error() {} };

function setup(stop: () => Promise<void>, timeoutMs = 1_000) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  let clock = 0;
  handleShutdownSignals(signals, { stop, timeoutMs, exit: (code) => exits.push(code), log: quiet, now: () => clock });
  return { signals, exits, advance: (ms: number) => (clock += ms) };
}

describe("shutdown signals", () => {
  it("exits 0 once the graceful stop completes", async () => {
    let stopped = false;
    const { signals, exits } = setup(async () => void (stopped = true));
    signals.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(true);
    expect(exits).toEqual([0]);
  });

  it("forces the exit on a second signal while stopping", () => {
    const { signals, exits, advance } = setup(() => new Promise(() => {}));
    signals.emit("SIGINT", "SIGINT");
    advance(2_000);
    signals.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([1]);
  });

  it("ignores the echo of the first signal that a process group delivers twice", () => {
    const { signals, exits, advance } = setup(() => new Promise(() => {}));
    signals.emit("SIGINT", "SIGINT");
    advance(5);
    signals.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([]);
  });

  it("exits 1 when the stop fails or outlasts the deadline", async () => {
    const failing = setup(() => Promise.reject(new Error("boom")));
    failing.signals.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setImmediate(r));
    expect(failing.exits).toEqual([1]);

    const hanging = setup(() => new Promise(() => {}), 20);
    hanging.signals.emit("SIGTERM", "SIGTERM");
    await new Promise((r) => setTimeout(r, 60));
    expect(hanging.exits).toEqual([1]);
  });
});
