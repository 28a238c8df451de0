import { describe, expect, it } from "vitest";
import fc from "fast-check";
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

  it("skips and counts keys that cannot be metric names as sent (U+0000, lone surrogates), with what is below them", () => {
    const parsed = parseTelemetry('{"a\\u0000b":1,"\\ud800":2,"ok":3,"\\ud83d\\ude00":4,"n\\u0000":{"x":5},"s\\u0000":"text"}', received);
    expect(parsed).toEqual({
      ok: true,
      time: received,
      readings: [
        { metric: "ok", value: 3 },
        { metric: "\u{1F600}", value: 4 },
      ],
      unstorableNames: 3,
    });
    expect(parseTelemetry('{"\\u0000":1}', received)).toEqual({ ok: false, reason: "unstorable-metric-names" });
  });

  it("never throws, and never yields a metric name PostgreSQL's text would reject or alter, whatever the bytes", () => {
    const key = fc.string({ unit: "binary", maxLength: 12 });
    const document = fc.dictionary(
      key,
      fc.oneof(fc.double(), fc.boolean(), fc.string({ unit: "binary" }), fc.dictionary(key, fc.double())),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          document.map((d) => JSON.stringify(d)),
          fc.uint8Array(),
        ),
        (payload) => {
          const parsed = parseTelemetry(payload, received);
          if (!parsed.ok) return;
          for (const { metric, value } of parsed.readings) {
            expect(metric.includes("\u0000") || /\p{Cs}/u.test(metric)).toBe(false);
            expect(Number.isFinite(value)).toBe(true);
          }
        },
      ),
    );
  });
});
