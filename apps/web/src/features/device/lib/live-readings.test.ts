import { describe, expect, it } from "vitest";
import type { LiveMqttMessage } from "@fleetwatch/contracts";
import { liveReadingsOf } from "./live-readings.ts";

const at = Date.UTC(2026, 0, 1, 12);
const message = (topic: string, payload: string, encoding: "utf8" | "base64" = "utf8"): LiveMqttMessage => ({
  subscription: "s1",
  topic,
  payload,
  encoding,
  qos: 0,
  retain: false,
  at,
});

describe("liveReadingsOf", () => {
  it("reads a device's telemetry as ingest does: nested numbers as dotted metrics, booleans as 0/1, at the time received", () => {
    expect(
      liveReadingsOf(message("devices/pump-1/telemetry", '{"temp":21.5,"env":{"humidity":40},"on":true,"note":"x"}'), "pump-1"),
    ).toEqual({
      time: at,
      readings: [
        { metric: "temp", value: 21.5 },
        { metric: "env.humidity", value: 40 },
        { metric: "on", value: 1 },
      ],
    });
  });

  it("uses the payload's own ts when it has one", () => {
    const ts = Date.UTC(2026, 0, 1, 11, 59);
    expect(liveReadingsOf(message("devices/pump-1/telemetry", JSON.stringify({ temp: 1, ts })), "pump-1")?.time).toBe(ts);
  });

  it("ignores other topics, other devices, binary payloads and payloads without readings", () => {
    expect(liveReadingsOf(message("devices/pump-1/state", '{"temp":1}'), "pump-1")).toBeNull();
    expect(liveReadingsOf(message("devices/pump-2/telemetry", '{"temp":1}'), "pump-1")).toBeNull();
    expect(liveReadingsOf(message("devices/pump-1/telemetry/extra", '{"temp":1}'), "pump-1")).toBeNull();
    expect(liveReadingsOf(message("devices/pump-1/telemetry", "AAEC", "base64"), "pump-1")).toBeNull();
    expect(liveReadingsOf(message("devices/pump-1/telemetry", "not json"), "pump-1")).toBeNull();
    expect(liveReadingsOf(message("devices/pump-1/telemetry", '{"note":"text only"}'), "pump-1")).toBeNull();
  });
});
