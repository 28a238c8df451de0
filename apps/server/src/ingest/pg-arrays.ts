// PostgreSQL array literals for the ingest batch parameters, built directly as text. pg
// encodes a JavaScript array parameter element by element (type checks, a regex escape per
// string, a local-time formatter per Date); under the ingest benchmark that encoding was
// the largest piece of the write path's CPU. These produce the same literals in one pass.
// Every value here is a parameter ($n::type[]), never SQL text.

/** Quoted elements: only `"` and `\` need escaping inside quotes; quoting keeps "NULL", commas and braces literal. */
export function textArray(values: readonly string[]): string {
  let literal = "{";
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const escaped = value.includes("\\") || value.includes('"') ? value.replace(/[\\"]/g, "\\$&") : value;
    literal += i === 0 ? `"${escaped}"` : `,"${escaped}"`;
  }
  return `${literal}}`;
}

/** ISO-8601 UTC with milliseconds: unambiguous whatever the session's TimeZone. */
export function timestamptzArray(values: readonly Date[]): string {
  return `{${values.map((date) => date.toISOString()).join(",")}}`;
}

/** Finite numbers only: JavaScript's shortest round-trip form (e.g. 5e-324, 1e+308) reads back as the same float8. */
export function numberArray(values: readonly number[]): string {
  return `{${values.join(",")}}`;
}

export function booleanArray(values: readonly boolean[]): string {
  return `{${values.map((value) => (value ? "t" : "f")).join(",")}}`;
}

/** bytea in hex form (\x...), quoted, with the backslash escaped for the array parser. */
export function byteaArray(values: readonly Buffer[]): string {
  return `{${values.map((value) => `"\\\\x${value.toString("hex")}"`).join(",")}}`;
}

/** Like textArray, with null elements as SQL NULL (unquoted NULL; a quoted "NULL" is the text). */
export function nullableTextArray(values: readonly (string | null)[]): string {
  let literal = "{";
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const element = value === null || value === undefined ? "NULL" : `"${value.replace(/[\\"]/g, "\\$&")}"`;
    literal += i === 0 ? element : `,${element}`;
  }
  return `${literal}}`;
}
