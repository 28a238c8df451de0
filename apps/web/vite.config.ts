import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defaultClientConditions, defineConfig, type Plugin, type ProxyOptions } from "vite";
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

/**
 * Writes `<file>.br` and `<file>.gz` beside every text asset of the build, which the server
 * sends to browsers that accept them (@fastify/static `preCompressed`): the best compression
 * levels, paid once at build time instead of on every request.
 */
function precompress(): Plugin {
  return {
    name: "fleetwatch:precompress",
    apply: "build",
    async writeBundle(options, bundle) {
      const dir = options.dir ?? "dist";
      const files = Object.keys(bundle).filter((name) => /\.(js|css|html|svg|json)$/.test(name));
      await Promise.all(
        files.map(async (name) => {
          const path = join(dir, name);
          const content = await readFile(path);
          await writeFile(`${path}.br`, brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
          await writeFile(`${path}.gz`, gzipSync(content, { level: 9 }));
        }),
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  resolve: {
    // Workspace packages export their TypeScript source under this condition, so the
    // dashboard compiles @fleetwatch/contracts directly instead of needing its build.
    // Setting `conditions` replaces Vite's defaults, hence the spread.
    conditions: [...defaultClientConditions, "@fleetwatch/source"],
  },
  server: { proxy },
  preview: { proxy },
});
