// Passwords of operator accounts, one mutation for both ways a password is set: one's own
// (POST /api/auth/password, proven with the current one; the other sessions end) and, by an
// admin, another user's (PATCH /api/users/:id; that user is signed out everywhere).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { PasswordChange } from "@fleetwatch/contracts";
import { api } from "../../../lib/api-client.ts";
import { updateUser, usersQueryKey } from "./users.ts";

export type PasswordTarget = { kind: "own" } | { kind: "user"; id: string; email: string };

export function changeOwnPassword(body: PasswordChange): Promise<void> {
  return api.post<void>("/api/auth/password", body);
}

/** `currentPassword` is only sent for one's own password: an admin needs none to set another user's. */
export function useSetPassword(target: PasswordTarget) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ currentPassword, newPassword }: { currentPassword: string; newPassword: string }) => {
      if (target.kind === "own") return changeOwnPassword({ currentPassword, newPassword });
      await updateUser({ id: target.id, changes: { password: newPassword } });
    },
    onSettled: () => (target.kind === "user" ? queryClient.invalidateQueries({ queryKey: usersQueryKey }) : undefined),
  });
}
