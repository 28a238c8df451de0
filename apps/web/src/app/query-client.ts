import { QueryClient } from "@tanstack/react-query";
import { retryUnlessRefused } from "../lib/query-retry.ts";

/**
 * The app's one query cache, for the page's lifetime. A module rather than React state, so
 * the first page's requests can start before React renders (preload.ts) and land in the
 * cache the components then read.
 */
export const queryClient = new QueryClient({ defaultOptions: { queries: { retry: retryUnlessRefused } } });
