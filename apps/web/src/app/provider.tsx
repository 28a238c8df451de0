import { useState, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiRequestError } from "../lib/api-client.ts";

/**
 * A 4xx answer (not found, forbidden, bad request) will not change on retry: show it at once.
 * Network failures and 5xx answers get two more tries.
 */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (error instanceof ApiRequestError && error.status < 500) return false;
  return failureCount < 2;
}

export function AppProvider({ children }: { children: ReactNode }) {
  // One client for the app's lifetime; created in state so a remount cannot drop the cache.
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: shouldRetry } } }));
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
