// POST /api/auth/password: the signed-in operator's own password, with the current one.
import { useMutation } from "@tanstack/react-query";
import type { PasswordChange } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";

export function changePassword(body: PasswordChange): Promise<void> {
  return api.post<void>("/api/auth/password", body);
}

export function useChangePassword() {
  return useMutation({ mutationFn: changePassword });
}
