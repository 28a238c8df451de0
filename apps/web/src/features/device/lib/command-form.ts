// The command form's rules, pure: what the operator typed → the CommandCreate body, or the
// errors per field, before anything is sent. The server checks everything again.
import { COMMAND_TIMEOUT_MAX_S, type CommandCreate } from "@fleetwatch/contracts";

export interface CommandFormValues {
  name: string;
  /** JSON as typed; empty for no params. */
  params: string;
  /** Seconds as typed. */
  timeout: string;
}

export type CommandFormErrors = Partial<Record<keyof CommandFormValues, string>>;

const MAX_NAME = 100;

export function validateCommandForm(
  values: CommandFormValues,
): { ok: true; body: CommandCreate } | { ok: false; errors: CommandFormErrors } {
  const errors: CommandFormErrors = {};
  const name = values.name.trim();
  if (name === "") errors.name = "Give the command a name, e.g. reboot.";
  else if (name.length > MAX_NAME) errors.name = `At most ${MAX_NAME} characters.`;

  let params: unknown;
  if (values.params.trim() !== "") {
    try {
      params = JSON.parse(values.params);
    } catch (error) {
      errors.params = `Not valid JSON: ${(error as Error).message}`;
    }
  }

  const timeoutText = values.timeout.trim();
  const timeout = Number(timeoutText);
  if (timeoutText !== "" && (!/^\d+$/.test(timeoutText) || timeout < 1 || timeout > COMMAND_TIMEOUT_MAX_S))
    errors.timeout = `A whole number of seconds from 1 to ${COMMAND_TIMEOUT_MAX_S}.`;

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    body: { name, ...(params !== undefined ? { params } : {}), ...(timeoutText !== "" ? { timeoutSeconds: timeout } : {}) },
  };
}
