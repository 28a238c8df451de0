import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { DeviceImportResult } from "@fleetwatch/contracts";
import { credentialsCsv } from "./credentials-csv.ts";

const result = (name: string): DeviceImportResult => ({
  created: [
    {
      device: {
        id: "pump-1",
        name,
        description: "",
        tags: [],
        disabled: false,
        online: false,
        status: "never",
        lastSeenAt: null,
        createdAt: "2026-11-30T00:00:00.000Z",
        updatedAt: "2026-11-30T00:00:00.000Z",
      },
      credentials: { clientId: "pump-1", username: "pump-1", password: "secret_-1" },
      endpoints: { mqtt: "mqtt://h:1883", ws: "ws://h/mqtt" },
    },
  ],
});

/** RFC 4180 records (CRLF between records; quoted fields may hold anything). */
function parse(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  const endField = () => {
    record.push(field);
    field = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") endField();
    else if (c === "\r" && text[i + 1] === "\n") {
      endField();
      records.push(record);
      record = [];
      i++;
    } else field += c;
  }
  return records;
}

describe("the credentials CSV", () => {
  it("has a header and one line per device with its password", () => {
    expect(credentialsCsv(result("Pump"))).toBe(
      "id,name,client_id,username,password,mqtt,ws\r\npump-1,Pump,pump-1,pump-1,secret_-1,mqtt://h:1883,ws://h/mqtt\r\n",
    );
  });

  it("gives back any name exactly, quoting what needs it (fast-check)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), (name) => {
        const records = parse(credentialsCsv(result(name)));
        expect(records[1]?.[1]).toBe(name);
      }),
    );
  });
});
