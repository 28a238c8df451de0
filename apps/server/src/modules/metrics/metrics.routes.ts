// GET /metrics: the Prometheus text format for this node. It is readable without a token only
// when METRICS_TOKEN is unset AND the request comes from this machine: both the TCP peer and
// the client address that TRUST_PROXY resolves must be loopback, so a reverse proxy on the
// same host does not turn every Internet client into "loopback". With METRICS_TOKEN set, every
// request needs `Authorization: Bearer <METRICS_TOKEN>`, from wherever it comes.
import { createHash, timingSafeEqual } from "node:crypto";
import { isIPv4 } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { ApiError } from "@fleetwatch/contracts";
import { ApiProblem, unauthorized } from "../../http/errors.ts";
import { bearerToken } from "../../http/api.ts";
import type { MetricsService } from "./metrics.service.ts";

export interface MetricsRouteOptions {
  metrics: MetricsService;
  /** METRICS_TOKEN; unset: loopback only, without a token. */
  token?: string | undefined;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
  return v4 === "::1" || (isIPv4(v4) && v4.startsWith("127."));
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Whether the request may read the metrics; throws the ApiProblem to answer otherwise. */
export function authorizeScrape(request: FastifyRequest, token: string | undefined): void {
  if (token === undefined) {
    if (isLoopback(request.ip) && isLoopback(request.socket.remoteAddress)) return;
    throw new ApiProblem(
      403,
      "Metrics are readable without a token only from this machine: set METRICS_TOKEN and send it as Authorization: Bearer <token>",
      "METRICS_LOOPBACK_ONLY",
    );
  }
  const sent = bearerToken(request);
  // Compared as digests: equal lengths for timingSafeEqual, and no early exit on the token's length.
  if (!sent || !timingSafeEqual(digest(sent), digest(token))) {
    throw new ApiProblem(
      401,
      unauthorized("Send Authorization: Bearer <METRICS_TOKEN>").message,
      "UNAUTHORIZED",
      {},
      { "www-authenticate": "Bearer" },
    );
  }
}

export async function metricsRoutes(app: FastifyInstance, { metrics, token }: MetricsRouteOptions) {
  app.get(
    "/metrics",
    {
      schema: {
        tags: ["monitoring"],
        summary: "Prometheus metrics of this node (text exposition format)",
        description:
          "Without METRICS_TOKEN: readable only from loopback, without credentials. With it: needs Authorization: Bearer <METRICS_TOKEN>. Off with METRICS_ENABLED=false (404).",
        produces: ["text/plain"],
        // The Bearer METRICS_TOKEN, or nothing from loopback when no token is configured.
        security: [{ bearer: [] }, {}],
        response: {
          200: Type.String({ description: "Prometheus text format 0.0.4" }),
          401: ApiError,
          403: ApiError,
          500: ApiError,
        },
      },
      onRequest: async (request) => authorizeScrape(request, token),
    },
    async (_request, reply) => {
      const body = await metrics.render();
      return reply.header("content-type", metrics.contentType()).header("cache-control", "no-store").send(body);
    },
  );
}
