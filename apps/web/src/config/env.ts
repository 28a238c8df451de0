// The dashboard's build-time configuration, read from Vite's env and validated in one place.
// Nothing else reads import.meta.env.

function apiUrl(value: string | undefined): string {
  // Unset: same origin, which is how the server serves the built dashboard and how the
  // dev server proxies it.
  if (value === undefined || value.trim() === "") return "";
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`VITE_API_URL must be an absolute http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`VITE_API_URL must be an absolute http(s) URL (got ${JSON.stringify(value)})`);
  }
  return url.href.replace(/\/+$/, "");
}

export const env = {
  /** Prefix for API requests: "" for same origin, else an origin without a trailing slash. */
  apiUrl: apiUrl(import.meta.env.VITE_API_URL),
} as const;
