import { useState, type ReactNode } from "react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { retryUnlessRefused } from "../lib/query-retry.ts";

export function AppProvider({ children }: { children: ReactNode }) {
  // One client for the app's lifetime; created in state so a remount cannot drop the cache.
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: retryUnlessRefused } } }));
  return <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
}
