// The register form's rules, pure: what the operator typed → the DeviceCreate body or the
// errors per field, and the server's refusals (400 naming a field, 409 for a taken id) →
// the same per-field errors. The server checks everything again (DeviceCreate's schema).
import { isValidDeviceId, type ApiError, type DeviceCreate } from "@fleetwatch/contracts";

export interface DeviceFormValues {
  name: string;
  id: string;
  /** Tags as typed: separated by commas or spaces. */
  tags: string;
}

export type DeviceField = keyof DeviceFormValues;
export type DeviceFormErrors = Partial<Record<DeviceField, string>>;

// The limits of DeviceCreate in packages/contracts/src/devices.ts.
const MAX_NAME = 200;
const MAX_ID = 64;
const MAX_TAG = 64;
const MAX_TAGS = 50;

export const idRule = "Lower-case letters, digits and dashes, starting and ending with a letter or digit, at most 64 characters.";

export function splitTags(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((tag) => tag !== ""))];
}

export function validateDeviceForm(values: DeviceFormValues): { ok: true; body: DeviceCreate } | { ok: false; errors: DeviceFormErrors } {
  const errors: DeviceFormErrors = {};
  const name = values.name.trim();
  const id = values.id.trim();
  const tags = splitTags(values.tags);

  if (name === "") errors.name = "Give the device a name.";
  else if (name.length > MAX_NAME) errors.name = `At most ${MAX_NAME} characters.`;

  if (id !== "" && (id.length > MAX_ID || !isValidDeviceId(id))) errors.id = `"${id}" is not a valid id. ${idRule}`;

  const longTag = tags.find((tag) => tag.length > MAX_TAG);
  if (longTag) errors.tags = `"${longTag.slice(0, 20)}…" is longer than ${MAX_TAG} characters.`;
  else if (tags.length > MAX_TAGS) errors.tags = `At most ${MAX_TAGS} tags.`;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, body: { name, ...(id ? { id } : {}), ...(tags.length > 0 ? { tags } : {}) } };
}

/**
 * The field a refused create is about: 409 is always the id; a 400 names its field in the
 * message ("body.tags.0: must match pattern ..."). Null when it is about no one field.
 */
export function fieldOfApiError(status: number, body: ApiError | undefined): { field: DeviceField; message: string } | null {
  if (status === 409) return { field: "id", message: body?.message ?? "This id is taken." };
  if (status !== 400 || !body) return null;
  const match = /^body\.(name|id|tags)\b/.exec(body.message);
  if (!match) return null;
  const field = match[1] as DeviceField;
  const friendly =
    field === "id"
      ? idRule
      : field === "tags"
        ? "Tags cannot contain spaces, commas or semicolons, and are at most 64 characters."
        : body.message;
  return { field, message: `The server refused it: ${friendly}` };
}
