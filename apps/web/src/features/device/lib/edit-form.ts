// The edit form's rules, pure: what the operator typed → the DeviceUpdate body (only what
// changed), or the errors per field. The server checks everything again (DeviceUpdate).
import type { Device, DeviceUpdate } from "@fleetwatch/contracts";

export interface EditFormValues {
  name: string;
  description: string;
  /** As typed: separated by commas or spaces. */
  tags: string;
}

export type EditFormErrors = Partial<Record<keyof EditFormValues, string>>;

export const splitTags = (text: string): string[] => [...new Set(text.split(/[\s,;]+/).filter((tag) => tag !== ""))];

export function editFormValues(device: Device): EditFormValues {
  return { name: device.name, description: device.description, tags: device.tags.join(", ") };
}

export function validateEditForm(
  device: Device,
  values: EditFormValues,
): { ok: true; changes: DeviceUpdate | null } | { ok: false; errors: EditFormErrors } {
  const errors: EditFormErrors = {};
  const name = values.name.trim();
  const tags = splitTags(values.tags);
  if (name === "") errors.name = "Give the device a name.";
  else if (name.length > 200) errors.name = "At most 200 characters.";
  if (values.description.length > 2_000) errors.description = "At most 2,000 characters.";
  const longTag = tags.find((tag) => tag.length > 64);
  if (longTag) errors.tags = `"${longTag.slice(0, 20)}…" is longer than 64 characters.`;
  else if (tags.length > 50) errors.tags = "At most 50 tags.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const changes: DeviceUpdate = {};
  if (name !== device.name) changes.name = name;
  if (values.description !== device.description) changes.description = values.description;
  if (tags.join("\n") !== device.tags.join("\n")) changes.tags = tags;
  return { ok: true, changes: Object.keys(changes).length > 0 ? changes : null };
}

/** Tags worth suggesting for what is being typed: in use elsewhere, not on the device already, matching the last word. */
export function tagSuggestions(typed: string, known: readonly string[], limit = 8): string[] {
  const present = new Set(splitTags(typed));
  const last = /[\s,;]$/.test(typed) ? "" : (typed.split(/[\s,;]+/).pop() ?? "");
  return known.filter((tag) => !present.has(tag) && tag.startsWith(last.toLowerCase()) && tag !== last).slice(0, limit);
}

/** The typed tags with a suggestion taken: it replaces the word being typed. */
export function takeSuggestion(typed: string, tag: string): string {
  const trailing = /[\s,;]$/.test(typed) || typed.trim() === "";
  const words = splitTags(typed);
  if (!trailing) words.pop();
  return [...words, tag].join(", ") + ", ";
}
