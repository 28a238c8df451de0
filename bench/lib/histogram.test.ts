import { describe, expect, it } from "vitest";
import { Histogram } from "./histogram.ts";

describe("latency histogram", () => {
  it("reports percentiles within about 1% of the exact values", () => {
    const histogram = new Histogram();
    for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
    expect(histogram.percentile(50)).toBeCloseTo(500, -1);
    expect(Math.abs(histogram.percentile(99) - 990) / 990).toBeLessThan(0.01);
    expect(histogram.percentile(100)).toBe(1000);
    expect(histogram.count).toBe(1000);
  });

  it("merges histograms from several workers by adding them", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 900; i++) a.record(2);
    for (let i = 0; i < 100; i++) b.record(40);
    const merged = new Histogram();
    merged.add(a.toJSON());
    merged.add(JSON.parse(JSON.stringify(b.toJSON())));
    expect(merged.count).toBe(1000);
    expect(merged.percentile(50)).toBeCloseTo(2, 1);
    expect(merged.percentile(95)).toBeCloseTo(40, 0);
    expect(merged.maxMs).toBe(40);
  });

  it("is empty after a reset, and an empty histogram has no percentiles", () => {
    const histogram = new Histogram();
    histogram.record(5);
    histogram.reset();
    expect(histogram.count).toBe(0);
    expect(histogram.percentile(99)).toBeNaN();
    expect(histogram.summary().p99).toBeNull();
  });
});
