// The first check of an import file, in the browser: is it JSON at all? The server checks the
// rest against the contract (DashboardDocument) and names the first field that is wrong.
export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

const MAX_FILE_CHARS = 2_000_000;

export function parseDashboardFile(text: string): Parsed {
  if (text.length > MAX_FILE_CHARS) return { ok: false, error: "This file is too large for a dashboard (over 2 MB)." };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return {
        ok: false,
        error: "This file is JSON, but not a dashboard export: it should hold one object with format, version, name and widgets.",
      };
    return { ok: true, value };
  } catch (error) {
    return {
      ok: false,
      error: `This file is not valid JSON (${error instanceof Error ? error.message : "parse error"}). Choose a file saved with Export JSON.`,
    };
  }
}
