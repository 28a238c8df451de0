import { describe, expect, it } from "vitest";
import { telemetryProblem } from "./telemetry-format.ts";

describe("telemetryProblem", () => {
  it("names what stops a payload from giving readings, as ingest decides it", () => {
    expect(telemetryProblem('{"temp": 21.5}', "utf8")).toBeNull();
    expect(telemetryProblem("temp=21.5", "utf8")).toBe("not-json");
    expect(telemetryProblem("[1, 2]", "utf8")).toBe("not-an-object");
    expect(telemetryProblem('{"temp": 1, "ts": "yesterday"}', "utf8")).toBe("bad-timestamp");
    expect(telemetryProblem('{"state": "on"}', "utf8")).toBe("no-numeric-fields");
    expect(telemetryProblem("AAEC", "base64")).toBe("binary");
  });
});
