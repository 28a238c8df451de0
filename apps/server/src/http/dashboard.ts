// Serves the built dashboard (apps/web/dist) at /, with client-side routes falling back to
// index.html. API and protocol paths never fall back: an unknown /api route is a JSON 404.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import fastifyStatic from "@fastify/static";
import { ApiProblem } from "./errors.ts";

/** apps/web/dist, from src/http/ in development and dist/http/ once built: the same depth. */
export const webDistDir = fileURLToPath(new URL("../../../web/dist/", import.meta.url));
const nonPagePrefixes = ["/api/", "/docs", "/mqtt", "/healthz", "/readyz"];

export async function dashboard(app: FastifyInstance) {
  const built = existsSync(`${webDistDir}index.html`);
  if (built) {
    await app.register(fastifyStatic, {
      root: webDistDir,
      wildcard: false,
      // The build writes .br and .gz next to each asset (apps/web/vite.config.ts): served to
      // browsers that accept them, with no compression work per request.
      preCompressed: true,
      setHeaders(reply, path) {
        // Hashed file names change with their content: cache them for good. index.html
        // must be revalidated, so a new build reaches browsers at once.
        reply.header("cache-control", path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const isPage =
      request.method === "GET" &&
      !nonPagePrefixes.some((prefix) => request.url.startsWith(prefix)) &&
      request.headers.accept?.includes("text/html");
    if (isPage && built) return reply.type("text/html").sendFile("index.html");
    if (isPage) return reply.code(503).type("text/plain").send("The dashboard has not been built yet: run `pnpm build`.");
    throw new ApiProblem(404, `Route ${request.method} ${request.url.split("?")[0]} not found`);
  });
}
