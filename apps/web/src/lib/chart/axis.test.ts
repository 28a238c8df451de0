// Axis ticks: nice steps, a domain that holds the data, and labels that never repeat.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decimalsFor, timeAxis, valueAxis } from "./axis.ts";

const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 });

describe("valueAxis", () => {
  it("covers the data with evenly spaced nice ticks, each label different", () => {
    fc.assert(
      fc.property(finite, finite, fc.integer({ min: 2, max: 10 }), (a, b, count) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const axis = valueAxis(low, high, count);
        expect(axis.domain[0]).toBeLessThanOrEqual(low);
        expect(axis.domain[1]).toBeGreaterThanOrEqual(high);
        expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
        for (const tick of axis.ticks) {
          expect(tick).toBeGreaterThanOrEqual(axis.domain[0]);
          expect(tick).toBeLessThanOrEqual(axis.domain[1]);
        }
        const labels = axis.ticks.map(axis.format);
        expect(new Set(labels).size).toBe(labels.length);
      }),
    );
  });

  it("writes the precision the step needs: 51.6 and 51.8, not 51.6 twice; 20 and 40, not 20.000", () => {
    expect(valueAxis(51.52, 52.31, 5).ticks.map(valueAxis(51.52, 52.31, 5).format)).toEqual([
      "51.4",
      "51.6",
      "51.8",
      "52.0",
      "52.2",
      "52.4",
    ]);
    const wide = valueAxis(19.52, 83.178, 5);
    expect(wide.ticks.map(wide.format)).toEqual(["0", "20", "40", "60", "80", "100"]);
  });

  it("gives a flat line room above and below", () => {
    const axis = valueAxis(21.5, 21.5, 5);
    expect(axis.domain[0]).toBeLessThan(21.5);
    expect(axis.domain[1]).toBeGreaterThan(21.5);
  });
});

describe("decimalsFor", () => {
  it("counts the decimals of a 1-2-5 step, float noise included", () => {
    expect([5, 1, 0.5, 0.2, 0.1 + 0.2, 0.05, 0.001].map(decimalsFor)).toEqual([0, 0, 1, 1, 1, 2, 3]);
  });
});

describe("timeAxis", () => {
  it("puts ticks on whole units inside the range, each label different", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.integer({ min: 10_000, max: 30 * 86_400_000 }),
        fc.integer({ min: 2, max: 12 }),
        (from, span, count) => {
          const axis = timeAxis(from, from + span, count);
          for (const tick of axis.ticks) {
            expect(tick).toBeGreaterThanOrEqual(from);
            expect(tick).toBeLessThanOrEqual(from + span);
            expect(tick % 1000).toBe(0);
          }
          const labels = axis.ticks.map(axis.format);
          expect(new Set(labels).size).toBe(labels.length);
        },
      ),
    );
  });
});
