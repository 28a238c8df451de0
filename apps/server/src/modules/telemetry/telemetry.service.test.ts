// Bucket widths and alignment of telemetry series: the pure rules behind every history chart.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { BUCKET_WIDTHS_MS, alignedSpan, bucketWidthMs } from "./telemetry.service.ts";

const DAY = 86_400_000;
const range = (from: number, span: number) => ({ from: new Date(from), to: new Date(from + span) });

describe("bucketWidthMs", () => {
  it("picks the narrowest listed width whose epoch-aligned buckets fit in maxPoints", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: 0, max: 400 * DAY }),
        fc.integer({ min: 1, max: 10_000 }),
        (from, span, maxPoints) => {
          const width = bucketWidthMs(range(from, span), maxPoints);
          const aligned = alignedSpan(range(from, span), width);
          expect(aligned.buckets).toBeLessThanOrEqual(maxPoints);
          expect(aligned.start % width).toBe(0);
          expect(aligned.start).toBeLessThanOrEqual(from);
          expect(aligned.end).toBeGreaterThanOrEqual(from + span);
          if (BUCKET_WIDTHS_MS.includes(width)) {
            // No narrower listed width would have fitted.
            for (const narrower of BUCKET_WIDTHS_MS.filter((w) => w < width))
              expect(alignedSpan(range(from, span), narrower).buckets).toBeGreaterThan(maxPoints);
          } else {
            expect(width % DAY).toBe(0);
            expect(alignedSpan(range(from, span), width - DAY).buckets).toBeGreaterThan(maxPoints);
          }
        },
      ),
    );
  });

  it("uses widths people read as whole units, each dividing a day", () => {
    for (const width of BUCKET_WIDTHS_MS) expect(DAY % width).toBe(0);
    expect(bucketWidthMs(range(Date.UTC(2026, 0, 1), 3_600_000), 300)).toBe(15_000);
    expect(bucketWidthMs(range(Date.UTC(2026, 0, 1, 0, 0, 7), 7 * DAY), 300)).toBe(3_600_000);
    expect(bucketWidthMs(range(Date.UTC(2026, 0, 1), 365 * DAY), 100)).toBe(4 * DAY);
  });
});
