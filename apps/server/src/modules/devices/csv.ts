// CSV for device import: a header line naming the columns (name required; id, description,
// tags optional; tags separated by ";"), RFC 4180 quoting. Rows become objects that the
// import validates exactly like JSON rows.

export const CSV_COLUMNS = ["name", "id", "description", "tags"] as const;

export type CsvResult = { ok: true; rows: Record<string, unknown>[] } | { ok: false; message: string };

/** Splits RFC 4180 CSV into records of fields; null when a quote is left open. */
export function parseCsvRecords(text: string): string[][] | null {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += c;
  }
  if (quoted) return null;
  if (field !== "" || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  // Blank lines carry no device.
  return records.filter((r) => !(r.length === 1 && r[0]?.trim() === ""));
}

export function parseDeviceCsv(text: string): CsvResult {
  const records = parseCsvRecords(text);
  if (!records) return { ok: false, message: "CSV has an unterminated quoted field" };
  const [header, ...data] = records;
  if (!header) return { ok: false, message: "CSV is empty: the first line must name the columns (name,id,description,tags)" };
  const columns = header.map((name) => name.trim().toLowerCase());
  const unknown = columns.filter((name) => !(CSV_COLUMNS as readonly string[]).includes(name));
  if (unknown.length > 0)
    return { ok: false, message: `CSV header has unknown column(s) ${unknown.join(", ")}; known: ${CSV_COLUMNS.join(", ")}` };
  if (!columns.includes("name")) return { ok: false, message: "CSV header must include a name column" };
  const rows = data.map((fields) => {
    const row: Record<string, unknown> = {};
    columns.forEach((column, i) => {
      const value = (fields[i] ?? "").trim();
      if (value === "" && column !== "name") return;
      row[column] =
        column === "tags"
          ? value
              .split(";")
              .map((tag) => tag.trim())
              .filter(Boolean)
          : value;
    });
    return row;
  });
  return { ok: true, rows };
}
