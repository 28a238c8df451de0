import { defaultClientConditions, defineConfig, type ProxyOptions } from "vite";
import react from "@vitejs/plugin-react";

// `pnpm dev` runs the dashboard against a Fleetwatch server on :8080 (`pnpm dev` at the
// repo root). The paths the server owns are proxied, so the app uses same-origin URLs in
// development exactly as it does when the server serves the built files.
const server = "http://localhost:8080";
const proxy: Record<string, ProxyOptions> = {
  "/api": { target: server },
  "/readyz": { target: server },
  "/healthz": { target: server },
  "/docs": { target: server },
  "/mqtt": { target: server, ws: true },
};

export default defineConfig({
  plugins: [react()],
  resolve: {
    // Workspace packages export their TypeScript source under this condition, so the
    // dashboard compiles @fleetwatch/contracts directly instead of needing its build.
    // Setting `conditions` replaces Vite's defaults, hence the spread.
    conditions: [...defaultClientConditions, "@fleetwatch/source"],
  },
  server: { proxy },
  preview: { proxy },
});
