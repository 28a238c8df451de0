import { describe, expect, it } from "vitest";
import { displayPayload } from "./payload.ts";

describe("displayPayload", () => {
  it("pretty-prints JSON objects and arrays", () => {
    expect(displayPayload({ payload: '{"temp":21.5,"env":{"rh":40}}', encoding: "utf8" })).toEqual({
      kind: "json",
      text: '{\n  "temp": 21.5,\n  "env": {\n    "rh": 40\n  }\n}',
    });
    expect(displayPayload({ payload: " [1,2]", encoding: "utf8" })).toEqual({ kind: "json", text: "[\n  1,\n  2\n]" });
  });

  it("keeps other text, broken JSON and base64 as they are", () => {
    expect(displayPayload({ payload: "online", encoding: "utf8" })).toEqual({ kind: "text", text: "online" });
    expect(displayPayload({ payload: "42", encoding: "utf8" })).toEqual({ kind: "text", text: "42" });
    expect(displayPayload({ payload: '{"temp":', encoding: "utf8" })).toEqual({ kind: "text", text: '{"temp":' });
    expect(displayPayload({ payload: "/wD+", encoding: "base64" })).toEqual({ kind: "base64", text: "/wD+" });
  });
});
