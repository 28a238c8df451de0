import { useEffect, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { describeError, setUnauthorizedHandler } from "../../../lib/api-client.ts";
import { liveClient } from "../../../lib/live/live-client.ts";
import { sessionQueryKey, useSession } from "../../../lib/auth/session.ts";
import { SignInForm } from "./sign-in-form.tsx";

/**
 * Renders `children` for a signed-in operator, else the sign-in form in place: the address
 * stays, so a deep link opens its page right after signing in.
 */
export function RequireSession({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const session = useSession();

  // Any 401 later (session expired, signed out in another tab) brings the form back.
  useEffect(() => {
    setUnauthorizedHandler(() => queryClient.setQueryData(sessionQueryKey, null));
    // The live channel closed because our credentials changed: ask the server who we are now
    // (signed out → the form; a changed role → the pages follow the new role).
    const stopWatching = liveClient.onRevoked(() => void queryClient.invalidateQueries({ queryKey: sessionQueryKey }));
    return () => {
      setUnauthorizedHandler(undefined);
      stopWatching();
    };
  }, [queryClient]);

  if (session.isPending) return <p role="status">Loading…</p>;
  if (session.error) {
    return (
      <div className="notice notice--error" role="alert">
        <p>Could not check your session: {describeError(session.error)}.</p>
        <button type="button" className="button" onClick={() => void session.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  if (!session.data) {
    return (
      <>
        <title>Sign in · Fleetwatch</title>
        <SignInForm />
      </>
    );
  }
  return children;
}
