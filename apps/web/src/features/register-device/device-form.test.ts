import { describe, expect, it } from "vitest";
import { fieldOfApiError, splitTags, validateDeviceForm } from "./device-form.ts";

describe("register form", () => {
  it("builds the DeviceCreate body: trimmed name, optional id, tags split on commas and spaces without duplicates", () => {
    expect(validateDeviceForm({ name: "  Boiler 7 ", id: "", tags: "" })).toEqual({ ok: true, body: { name: "Boiler 7" } });
    expect(validateDeviceForm({ name: "Boiler", id: "boiler-7", tags: "heating, basement  heating;floor-1" })).toEqual({
      ok: true,
      body: { name: "Boiler", id: "boiler-7", tags: ["heating", "basement", "floor-1"] },
    });
    expect(splitTags(" , ")).toEqual([]);
  });

  it("names the field at fault: empty name, id outside the slug pattern, overlong tag", () => {
    expect(validateDeviceForm({ name: " ", id: "", tags: "" })).toEqual({ ok: false, errors: { name: "Give the device a name." } });
    for (const id of ["Boiler_7", "-boiler", "boiler-", "a/b", "x".repeat(65)]) {
      const result = validateDeviceForm({ name: "Boiler", id, tags: "" });
      expect(result.ok ? null : Object.keys(result.errors), id).toEqual(["id"]);
    }
    const result = validateDeviceForm({ name: "Boiler", id: "", tags: "t".repeat(65) });
    expect(result.ok ? null : Object.keys(result.errors)).toEqual(["tags"]);
  });

  it("maps the server's 409 to the id field and a 400 to the field its message names", () => {
    expect(
      fieldOfApiError(409, {
        statusCode: 409,
        error: "Conflict",
        message: "A device with id boiler-7 exists already",
        code: "DEVICE_EXISTS",
      }),
    ).toEqual({
      field: "id",
      message: "A device with id boiler-7 exists already",
    });
    expect(
      fieldOfApiError(400, { statusCode: 400, error: "Bad Request", message: "body.tags.0: must match pattern", code: "VALIDATION_FAILED" })
        ?.field,
    ).toBe("tags");
    expect(
      fieldOfApiError(400, { statusCode: 400, error: "Bad Request", message: "body.id: must match pattern", code: "VALIDATION_FAILED" })
        ?.field,
    ).toBe("id");
    expect(fieldOfApiError(400, { statusCode: 400, error: "Bad Request", message: "Body is not JSON" })).toBeNull();
    expect(fieldOfApiError(500, undefined)).toBeNull();
  });
});
