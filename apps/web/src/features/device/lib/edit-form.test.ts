import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Device } from "@fleetwatch/contracts";
import { editFormValues, tagSuggestions, takeSuggestion, validateEditForm } from "./edit-form.ts";

const device: Device = {
  id: "pump-1",
  name: "Pump",
  description: "",
  tags: ["roof"],
  disabled: false,
  online: false,
  status: "never",
  lastSeenAt: null,
  createdAt: "2026-11-30T00:00:00.000Z",
  updatedAt: "2026-11-30T00:00:00.000Z",
};

describe("the device edit form", () => {
  it("sends only what changed, trimmed", () => {
    expect(validateEditForm(device, { ...editFormValues(device), name: "  Pump 2 " })).toEqual({ ok: true, changes: { name: "Pump 2" } });
    expect(validateEditForm(device, { ...editFormValues(device), tags: "roof, north roof" })).toEqual({
      ok: true,
      changes: { tags: ["roof", "north"] },
    });
    expect(validateEditForm(device, editFormValues(device))).toEqual({ ok: true, changes: null });
  });

  it("refuses any blank name (fast-check)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(" ", "\t", "\n", "\u00a0"), maxLength: 10 }), (name) => {
        const result = validateEditForm(device, { ...editFormValues(device), name });
        expect(result.ok).toBe(false);
      }),
    );
  });

  it("suggests known tags for the word being typed and replaces it when one is taken", () => {
    const known = ["roof", "floor-1", "floor-2", "north"];
    expect(tagSuggestions("roof, fl", known)).toEqual(["floor-1", "floor-2"]);
    expect(tagSuggestions("roof, ", known)).toEqual(["floor-1", "floor-2", "north"]);
    expect(takeSuggestion("roof, fl", "floor-2")).toBe("roof, floor-2, ");
    expect(takeSuggestion("", "north")).toBe("north, ");
  });
});
