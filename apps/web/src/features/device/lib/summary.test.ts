import { describe, expect, it } from "vitest";
import { summarize } from "./summary.ts";

const bucket = (min: number, max: number, avg: number, count: number) => ({
  time: "2026-01-01T00:00:00.000Z",
  at: "2026-01-01T00:00:00.000Z",
  min,
  max,
  avg,
  count,
});

describe("summarize", () => {
  it("weights each bucket's average by its readings, so the average is that of all readings", () => {
    // Readings 1, 2, 3 in one bucket and 10 alone in another: mean 4, not (2 + 10) / 2.
    expect(summarize([bucket(1, 3, 2, 3), bucket(10, 10, 10, 1)])).toEqual({ min: 1, max: 10, avg: 4, count: 4 });
  });

  it("takes the extremes of the buckets' own min and max, not of their averages", () => {
    expect(summarize([bucket(-5, 7, 1, 2), bucket(0, 2, 1, 2)])).toMatchObject({ min: -5, max: 7 });
  });

  it("has nothing to say about a range without readings", () => {
    expect(summarize([])).toBeNull();
  });
});
