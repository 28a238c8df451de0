// CSV exports of telemetry: whatever the metric names (they come from devices) and values,
// a CSV reader gets back exactly the readings that were written, in both layouts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseCsvRecords } from "../devices/csv.ts";
import { longCsv, wideCsv } from "./telemetry-csv.ts";
import type { ExportRow } from "./telemetry.repository.ts";

const metricNames = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12, unit: "binary" }), { minLength: 1, maxLength: 5 });

/** Readings in the order the database returns them: by time, then by the metric's position. */
const readingsOf = (metricCount: number) =>
  fc
    .array(
      fc.record({
        // A few distinct seconds, so readings often share a time (a message's readings do).
        time: fc.nat({ max: 6 }).map((second) => Date.UTC(2020, 0, 1) + second * 1000),
        metric: fc.nat({ max: metricCount - 1 }),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
      }),
      { maxLength: 60 },
    )
    .map((rows) => rows.sort((a, b) => a.time - b.time || a.metric - b.metric));

/** The rows in cursor-sized chunks, as the repository yields them. */
async function* chunked(rows: { time: number; metric: number; value: number }[], size: number): AsyncGenerator<ExportRow[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size).map((r) => ({ ...r, time: new Date(r.time) }));
}

async function text(lines: AsyncIterable<string>): Promise<string> {
  let out = "";
  for await (const line of lines) out += line;
  return out;
}

/** What a spreadsheet shows for a name: the guard quote in front of formula-like names is ours. */
const shown = (name: string) => (/^[=+\-@\t\r]/.test(name) ? `'${name}` : name);
const key = (r: { time: number; metric: number; value: number }) => `${r.time}|${r.metric}|${r.value}`;

describe("telemetry CSV", () => {
  it("long: a reader gets back every reading with its metric's name", async () => {
    await fc.assert(
      fc.asyncProperty(
        metricNames.chain((names) => fc.tuple(fc.constant(names), readingsOf(names.length), fc.integer({ min: 1, max: 7 }))),
        async ([names, rows, size]) => {
          const records = parseCsvRecords(await text(longCsv(names, chunked(rows, size))));
          expect(records?.[0]).toEqual(["time", "metric", "value"]);
          const read = (records ?? []).slice(1).map(([time, metric, value]) => ({
            time: Date.parse(time as string),
            metric: names.map(shown).indexOf(metric as string),
            value: Number(value),
          }));
          expect(read.map(key)).toEqual(rows.map(key));
        },
      ),
    );
  });

  it("wide: a row per time, and every reading in its metric's column, none lost when a metric repeats a time", async () => {
    await fc.assert(
      fc.asyncProperty(
        metricNames.chain((names) => fc.tuple(fc.constant(names), readingsOf(names.length), fc.integer({ min: 1, max: 7 }))),
        async ([names, rows, size]) => {
          const records = parseCsvRecords(await text(wideCsv(names, chunked(rows, size)))) ?? [];
          expect(records[0]).toEqual(["time", ...names.map(shown)]);
          const read = records
            .slice(1)
            .flatMap(([time, ...cells]) =>
              cells.flatMap((cell, metric) => (cell === "" ? [] : [{ time: Date.parse(time as string), metric, value: Number(cell) }])),
            );
          expect(read.map(key).sort()).toEqual(rows.map(key).sort());
          // Readings of different metrics at one time share a row.
          const distinctTimes = new Set(rows.map((r) => r.time)).size;
          if (rows.every((r, i) => rows.findIndex((o) => o.time === r.time && o.metric === r.metric) === i))
            expect(records.length - 1).toBe(distinctTimes);
        },
      ),
    );
  });
});
