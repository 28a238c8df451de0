// The dashboard's one retry policy for queries (the QueryClient's default).
import { ApiRequestError } from "./api-client.ts";

/**
 * A 4xx answer (not found, forbidden, bad request) was refused on purpose and will not
 * change on retry: show it at once. Network failures and 5xx answers get two more tries.
 */
export function retryUnlessRefused(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiRequestError && error.status < 500) return false;
  return failureCount < 2;
}
