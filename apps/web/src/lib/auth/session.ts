// Shared by every feature: who is signed in (features/auth holds the sign-in form itself).
// The signed-in operator: GET /api/auth/me, sign-in and sign-out. The session lives in an
// HttpOnly cookie the dashboard cannot read; what it can know is this query's answer.
import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { LoginBody, SessionInfo } from "@fleetwatch/contracts";
import { ApiRequestError, api, setCsrfToken } from "../api-client.ts";

export const sessionQueryKey = ["session"] as const;

/** The session, or null when nobody is signed in (401). */
export async function getSession({ signal }: { signal?: AbortSignal } = {}): Promise<SessionInfo | null> {
  try {
    const session = await api.get<SessionInfo>("/api/auth/me", { signal });
    setCsrfToken(session.csrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 401) {
      setCsrfToken(null);
      return null;
    }
    throw error;
  }
}

export function sessionQueryOptions() {
  return queryOptions({ queryKey: sessionQueryKey, queryFn: ({ signal }) => getSession({ signal }), staleTime: 60_000 });
}

export function useSession() {
  return useQuery(sessionQueryOptions());
}

// One operator's data must not survive into another's session on the same tab. The session
// query itself stays (its observers would not see a replaced one) and is overwritten.
function forgetOtherQueries(queryClient: QueryClient): void {
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionQueryKey[0] });
}

export function useSignIn() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: LoginBody) => api.post<SessionInfo>("/api/auth/login", body),
    onSuccess: (session) => {
      setCsrfToken(session.csrfToken);
      forgetOtherQueries(queryClient);
      queryClient.setQueryData(sessionQueryKey, session);
    },
  });
}

export function useSignOut() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api.post<void>("/api/auth/logout"),
    onSettled: () => {
      setCsrfToken(null);
      forgetOtherQueries(queryClient);
      queryClient.setQueryData(sessionQueryKey, null);
    },
  });
}
