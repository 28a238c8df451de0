import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { payloadAsText } from "./payload-text.ts";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe("payloadAsText", () => {
  it("keeps every byte of any payload: UTF-8 text when the bytes are valid UTF-8, else base64", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.string({ unit: "binary", maxLength: 100 }).map((s) => Buffer.from(s)),
        ),
        (bytes) => {
          const payload = Buffer.from(bytes);
          const text = payloadAsText(payload);
          if (text.encoding === "base64") {
            expect(Buffer.from(text.payload, "base64").equals(payload)).toBe(true);
            expect(() => new TextDecoder("utf-8", { fatal: true }).decode(payload)).toThrow();
          } else {
            // A leading byte order mark is a marker, not text: the decoder drops it.
            const withoutBom = payload.subarray(0, 3).equals(BOM) ? payload.subarray(3) : payload;
            expect(Buffer.from(text.payload, "utf8").equals(withoutBom)).toBe(true);
          }
        },
      ),
    );
  });

  it("answers strings as they are, and names the encoding", () => {
    expect(payloadAsText("21.5")).toEqual({ payload: "21.5", encoding: "utf8" });
    expect(payloadAsText(Buffer.from("température"))).toEqual({ payload: "température", encoding: "utf8" });
    expect(payloadAsText(Buffer.from([0xff, 0x00, 0x80]))).toEqual({ payload: "/wCA", encoding: "base64" });
  });
});
