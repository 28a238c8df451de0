import { describe, expect, it } from "vitest";
import type { Device, DeviceList, PlatformEvent, PresenceChanged } from "@fleetwatch/contracts";
import { applyPresence, latestPresence } from "./presence-patch.ts";

function device(id: string, overrides: Partial<Device> = {}): Device {
  return {
    id,
    name: id,
    description: "",
    tags: [],
    disabled: false,
    online: false,
    status: "never",
    lastSeenAt: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

const page = (...items: Device[]): DeviceList => ({ items, total: items.length, limit: 500, offset: 0 });

function presence(deviceId: string, online: boolean, at: string): PresenceChanged {
  return { kind: "presence", deviceId, online, reason: online ? "connected" : "connection lost", at };
}

describe("applyPresence", () => {
  it("turns a never-seen device online and records when it was seen", () => {
    const before = page(device("a"), device("b"));
    const after = applyPresence(before, latestPresence([presence("a", true, "2026-02-01T10:00:00.000Z")]));
    expect(after.items[0]).toMatchObject({ id: "a", online: true, status: "online", lastSeenAt: "2026-02-01T10:00:00.000Z" });
    expect(after.items[1]).toBe(before.items[1]);
    expect(before.items[0]?.status).toBe("never"); // the cached page is not mutated
  });

  it("turns an online device offline: seen before, so offline and not never seen", () => {
    const before = page(device("a", { online: true, status: "online", lastSeenAt: "2026-02-01T10:00:00.000Z" }));
    const after = applyPresence(before, latestPresence([presence("a", false, "2026-02-01T10:05:00.000Z")]));
    expect(after.items[0]).toMatchObject({ online: false, status: "offline", lastSeenAt: "2026-02-01T10:05:00.000Z" });
  });

  it("returns the same page object when no row changes, so its observers are not notified", () => {
    const before = page(device("a"), device("b", { online: true, status: "online", lastSeenAt: "2026-02-01T10:00:00.000Z" }));
    expect(applyPresence(before, latestPresence([presence("elsewhere", true, "2026-02-01T10:00:00.000Z")]))).toBe(before);
    expect(applyPresence(before, latestPresence([presence("b", true, "2026-02-01T10:00:00.000Z")]))).toBe(before);
  });
});

describe("latestPresence", () => {
  it("keeps the newest event of each device in a frame and ignores other events", () => {
    const alert: PlatformEvent = { kind: "alert-rule.changed", ruleId: 1, change: "created" };
    const latest = latestPresence([
      presence("a", true, "2026-02-01T10:00:00.000Z"),
      alert,
      presence("a", false, "2026-02-01T10:00:05.000Z"),
      presence("b", true, "2026-02-01T10:00:01.000Z"),
      presence("b", false, "2026-02-01T09:00:00.000Z"),
    ]);
    expect([...latest.keys()].sort()).toEqual(["a", "b"]);
    expect(latest.get("a")?.online).toBe(false);
    expect(latest.get("b")?.online).toBe(true);
  });
});
