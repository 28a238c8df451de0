// The drawn series: straight segments between the points only, broken across holes in the data.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { breakAfterMs, chartRows, isIsolated, type ChartPoint } from "./series.ts";

const points = fc
  .uniqueArray(fc.integer({ min: 0, max: 10_000_000 }), { maxLength: 80 })
  .chain((times) =>
    fc.tuple(
      fc.constant(times),
      fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: times.length, maxLength: times.length }),
    ),
  )
  .map(([times, values]) => times.map((t, i): ChartPoint => ({ t, v: values[i] as number })));

describe("chartRows", () => {
  it("keeps every point, in time order, and never joins two points further apart than the break distance", () => {
    fc.assert(
      fc.property(points, fc.integer({ min: 1, max: 1_000_000 }), (input, breakAfter) => {
        const rows = chartRows(input, breakAfter);
        const drawn = rows.filter((row) => row.point !== null);
        expect(drawn.map((row) => row.t)).toEqual(input.map((p) => p.t).sort((a, b) => a - b));
        for (let i = 1; i < rows.length; i++) {
          const [before, after] = [rows[i - 1]!, rows[i]!];
          expect(after.t).toBeGreaterThanOrEqual(before.t);
          if (before.point && after.point) expect(after.t - before.t).toBeLessThanOrEqual(breakAfter);
          // A break stands between two points that are too far apart, never next to another break.
          if (!after.point) expect(before.point && rows[i + 1]?.point && rows[i + 1]!.t - before.t > breakAfter).toBeTruthy();
        }
      }),
    );
  });

  it("breaks a line of 5-second readings across a 2-minute silence, and only there", () => {
    const start = Date.UTC(2026, 0, 1);
    const input = [
      ...Array.from({ length: 10 }, (_, i) => start + i * 5_000),
      ...Array.from({ length: 10 }, (_, i) => start + 165_000 + i * 5_000),
    ].map((t, i) => ({ t, v: i }));
    const rows = chartRows(input, breakAfterMs(input));
    expect(rows.filter((row) => row.v === null)).toHaveLength(1);
    expect(rows[10]).toMatchObject({ v: null });
  });

  it("draws a band from each bucket's min to max, and a single reading as a band of no height", () => {
    const rows = chartRows(
      [
        { t: 1, v: 5, min: 2, max: 9, count: 3 },
        { t: 2, v: 4 },
      ],
      10,
    );
    expect(rows.map((row) => row.band)).toEqual([
      [2, 9],
      [4, 4],
    ]);
  });
});

describe("breakAfterMs", () => {
  it("is about two bucket widths, or two of the data's usual steps when the device reports less often", () => {
    const every = (step: number, n: number) => Array.from({ length: n }, (_, i) => ({ t: i * step, v: 0 }));
    expect(breakAfterMs(every(1_000, 50), 15_000)).toBe(30_000);
    expect(breakAfterMs(every(60_000, 50), 15_000)).toBe(120_000);
    expect(breakAfterMs([], 15_000)).toBe(30_000);
  });
});

describe("isIsolated", () => {
  it("marks a point with a break or nothing on both sides", () => {
    const rows = chartRows(
      [0, 1, 100, 200, 201].map((t) => ({ t, v: t })),
      10,
    );
    expect(rows.map((_, i) => isIsolated(rows, i))).toEqual([false, false, false, true, false, false, false]);
  });
});
