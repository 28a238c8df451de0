import { describe, expect, it } from "vitest";
import type { PresenceEvent, PresenceHistory } from "@fleetwatch/contracts";
import { presencePeriods } from "./presence-periods.ts";

const T = Date.UTC(2026, 0, 1);
const event = (offset: number, online: boolean, reason: PresenceEvent["reason"]): PresenceEvent => ({
  deviceId: "d",
  online,
  reason,
  at: new Date(T + offset).toISOString(),
});
const history = (items: PresenceEvent[], before: PresenceEvent | null): PresenceHistory => ({
  deviceId: "d",
  online: items[0]?.online ?? false,
  items: [...items].reverse(),
  before,
});

describe("presencePeriods", () => {
  it("splits the range at each change, carries the state the range began in, and gives each offline period its reason", () => {
    const summary = presencePeriods(
      history(
        [event(100, false, "connection lost"), event(400, true, "connected"), event(700, false, "keepalive timeout")],
        event(-50, true, "connected"),
      ),
      { from: T, to: T + 1000 },
      1000,
    );
    expect(summary.periods).toEqual([
      { state: "online", from: T, to: T + 100, reason: "connected" },
      { state: "offline", from: T + 100, to: T + 400, reason: "connection lost" },
      { state: "online", from: T + 400, to: T + 700, reason: "connected" },
      { state: "offline", from: T + 700, to: T + 1000, reason: "keepalive timeout" },
    ]);
    expect(summary.uptime).toBeCloseTo(0.4);
    expect(summary.truncated).toBe(false);
  });

  it("leaves the time before a device's first connection out of its uptime", () => {
    const summary = presencePeriods(history([event(500, true, "connected")], null), { from: T, to: T + 1000 }, 1000);
    expect(summary.periods.map((p) => p.state)).toEqual(["unknown", "online"]);
    expect(summary.uptime).toBe(1);
  });

  it("knows nothing of a range without events or a state before it", () => {
    expect(presencePeriods(history([], null), { from: T, to: T + 1000 }, 1000)).toEqual({
      periods: [{ state: "unknown", from: T, to: T + 1000, reason: null }],
      uptime: null,
      truncated: false,
    });
  });

  it("does not trust the state before the range when the server cut the events short", () => {
    const summary = presencePeriods(
      history([event(100, false, "disconnected"), event(200, true, "connected")], event(-1, false, "disconnected")),
      { from: T, to: T + 1000 },
      2,
    );
    expect(summary.truncated).toBe(true);
    expect(summary.periods[0]).toMatchObject({ state: "unknown", to: T + 100 });
  });
});
