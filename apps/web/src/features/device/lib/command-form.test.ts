import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { validateCommandForm } from "./command-form.ts";

describe("the command form", () => {
  it("sends a trimmed name, parsed params and the timeout", () => {
    expect(validateCommandForm({ name: " set-interval ", params: '{"seconds": 5}', timeout: "60" })).toEqual({
      ok: true,
      body: { name: "set-interval", params: { seconds: 5 }, timeoutSeconds: 60 },
    });
    expect(validateCommandForm({ name: "reboot", params: "", timeout: "" })).toEqual({ ok: true, body: { name: "reboot" } });
  });

  it("refuses a blank name, params that are not JSON and a timeout out of range, each with a reason", () => {
    const result = validateCommandForm({ name: "  ", params: "{seconds: 5}", timeout: "0" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(Object.keys(result.errors).sort()).toEqual(["name", "params", "timeout"]);
    expect(result.errors.params).toMatch(/^Not valid JSON/);
  });

  it("accepts params exactly when they are JSON, and never throws (fast-check)", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let json = true;
        try {
          JSON.parse(text);
        } catch {
          json = false;
        }
        const result = validateCommandForm({ name: "x", params: text, timeout: "" });
        expect(result.ok).toBe(json || text.trim() === "");
      }),
    );
  });
});
