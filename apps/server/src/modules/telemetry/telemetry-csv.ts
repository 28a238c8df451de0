// Telemetry exports as CSV, written while the readings stream from the database cursor.
import type { ExportRow } from "./telemetry.repository.ts";

/** RFC 4180 quoting, and a leading quote mark for cells a spreadsheet would run as a formula. */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One line per reading: `time,metric,value`. */
export async function* longCsv(metrics: readonly string[], chunks: AsyncIterable<ExportRow[]>): AsyncGenerator<string> {
  const names = metrics.map(csvField);
  yield "time,metric,value\n";
  for await (const rows of chunks) {
    yield rows.map((r) => `${r.time.toISOString()},${names[r.metric]},${r.value}\n`).join("");
  }
}

/**
 * One line per distinct time: `time,<metric>,…`, so the readings of one message share a row
 * and a metric without a reading at that time leaves its cell empty. A metric read twice at
 * the same time starts another row with that time rather than losing a value. Expects the
 * rows in time order.
 */
export async function* wideCsv(metrics: readonly string[], chunks: AsyncIterable<ExportRow[]>): AsyncGenerator<string> {
  yield `time,${metrics.map(csvField).join(",")}\n`;
  let time: number | null = null;
  let cells: string[] = [];
  const line = () => `${new Date(time as number).toISOString()},${cells.join(",")}\n`;
  for await (const rows of chunks) {
    let out = "";
    for (const row of rows) {
      const at = row.time.getTime();
      if (time !== at || cells[row.metric] !== "") {
        if (time !== null) out += line();
        time = at;
        cells = metrics.map(() => "");
      }
      cells[row.metric] = String(row.value);
    }
    if (out) yield out;
  }
  if (time !== null) yield line();
}
