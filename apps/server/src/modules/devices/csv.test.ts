import { describe, expect, it } from "vitest";
import { parseDeviceCsv } from "./csv.ts";
import { slugify } from "./devices.service.ts";

describe("device import CSV", () => {
  it("maps columns by header, splits tags on ';' and honours RFC 4180 quotes", () => {
    const csv = 'name,id,tags,description\r\n"Pump, north",pump-n,a;b,"says ""hi"""\nSensor 2,,,\n\n';
    expect(parseDeviceCsv(csv)).toEqual({
      ok: true,
      rows: [{ name: "Pump, north", id: "pump-n", tags: ["a", "b"], description: 'says "hi"' }, { name: "Sensor 2" }],
    });
  });

  it("refuses unknown columns, a missing name column and open quotes", () => {
    expect(parseDeviceCsv("name,colour\nx,red")).toMatchObject({ ok: false, message: expect.stringContaining("colour") });
    expect(parseDeviceCsv("id\nx")).toMatchObject({ ok: false, message: expect.stringContaining("name column") });
    expect(parseDeviceCsv('name\n"open')).toMatchObject({ ok: false, message: expect.stringContaining("unterminated") });
  });
});

describe("device ids from names", () => {
  it("makes readable slugs, and a fallback when nothing usable is left", () => {
    expect(slugify("Pump #1 (North)")).toBe("pump-1-north");
    expect(slugify("Café Süd")).toBe("cafe-sud");
    expect(slugify("!!!")).toBe("device");
  });
});
