import { describe, expect, it } from "vitest";
import { parseTelemetry } from "./payloads.ts";

const received = new Date("2026-01-01T00:00:00Z");

describe("telemetry payloads", () => {
  it("turns numeric fields into readings, nested objects into dotted names", () => {
    expect(parseTelemetry('{"temp":21.5,"env":{"humidity":40,"deep":{"x":-1}},"label":"a","on":true,"list":[1]}', received)).toEqual({
      ok: true,
      time: received,
      readings: [
        { metric: "temp", value: 21.5 },
        { metric: "env.humidity", value: 40 },
        { metric: "env.deep.x", value: -1 },
        { metric: "on", value: 1 },
      ],
    });
  });

  it("takes the reading time from ts, as epoch milliseconds or ISO-8601", () => {
    const at = Date.UTC(2025, 5, 1, 12);
    expect(parseTelemetry(JSON.stringify({ ts: at, v: 1 }), received)).toMatchObject({ ok: true, time: new Date(at) });
    expect(parseTelemetry('{"ts":"2025-06-01T12:00:00Z","v":1}', received)).toMatchObject({ ok: true, time: new Date(at) });
  });

  it("reports why a payload has no readings, never throws", () => {
    expect(parseTelemetry("not json", received)).toEqual({ ok: false, reason: "not-json" });
    expect(parseTelemetry(new Uint8Array([0xff, 0xfe, 0x00]), received)).toEqual({ ok: false, reason: "not-json" });
    expect(parseTelemetry("[1,2]", received)).toEqual({ ok: false, reason: "not-an-object" });
    expect(parseTelemetry('{"ts":"yesterday","v":1}', received)).toEqual({ ok: false, reason: "bad-timestamp" });
    expect(parseTelemetry('{"ts":12,"v":1}', received)).toEqual({ ok: false, reason: "bad-timestamp" });
    expect(parseTelemetry('{"status":"ok"}', received)).toEqual({ ok: false, reason: "no-numeric-fields" });
  });

  it("bounds hostile payloads: depth and count", () => {
    let nested: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 50; i++) nested = { n: nested };
    const deep = parseTelemetry(JSON.stringify({ top: 1, nested }), received);
    expect(deep.ok && deep.readings).toEqual([{ metric: "top", value: 1 }]);
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`m${i}`, i]));
    const wide = parseTelemetry(JSON.stringify(many), received);
    expect(wide.ok && wide.readings.length).toBe(500);
  });
});
