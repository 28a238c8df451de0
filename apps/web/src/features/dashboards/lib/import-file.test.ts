import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseDashboardFile } from "./import-file.ts";

describe("parseDashboardFile", () => {
  it("never throws: any text is a parsed object or an error that says why", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          const parsed = parseDashboardFile(text);
          if (parsed.ok) expect(typeof parsed.value).toBe("object");
          else expect(parsed.error).toMatch(/JSON|dashboard|large/);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("names the problem: not JSON, or JSON that is not an object", () => {
    expect(parseDashboardFile('{"format": ')).toMatchObject({ ok: false, error: expect.stringMatching(/^This file is not valid JSON/) });
    expect(parseDashboardFile("[1, 2]")).toMatchObject({ ok: false, error: expect.stringMatching(/not a dashboard export/) });
    expect(parseDashboardFile('{"name": "x"}')).toEqual({ ok: true, value: { name: "x" } });
  });
});
