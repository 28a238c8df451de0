import { describe, expect, it } from "vitest";
import { formatDuration } from "./format.ts";

describe("formatDuration", () => {
  it("says a length of time in the largest unit it reaches, with one decimal below ten of it", () => {
    // Alert rules' hold durations and the history's bucket widths (a week in 300 buckets).
    expect([500, 1_500, 12_000, 90_000, 2_016_000, 3_600_000, 5_400_000, 2 * 86_400_000].map(formatDuration)).toEqual([
      "500 ms",
      "1.5 s",
      "12 s",
      "1.5 min",
      "34 min",
      "1 h",
      "1.5 h",
      "2 d",
    ]);
  });
});
