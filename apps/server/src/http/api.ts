// The /api scope. Everything registered inside it requires a signed-in operator (session
// cookie) or an API token (Authorization: Bearer) unless its route says `access: "public"`,
// and every change needs the admin role unless it says otherwise (`access: "operator"` for
// what the fleet's operators may do): routes added here later
// are protected by default. Cookie-authenticated changes also need the CSRF token.
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ApiError, roleAtLeast } from "@fleetwatch/contracts";
import type { AuthService, Operator } from "../modules/auth/auth.service.ts";
import { forbidden, unauthorized } from "./errors.ts";

/**
 * Who may call a route: anyone; anyone signed in (any role); the fleet's operators (the
 * operator and admin roles); or admins only.
 */
export type Access = "public" | "signed-in" | "operator" | "admin";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Default: "signed-in" for GET/HEAD, "admin" for everything else. */
    access?: Access;
  }
  interface FastifyRequest {
    operator: Operator | null;
  }
}

export const SESSION_COOKIE = "fw_session";
export const CSRF_HEADER = "x-csrf-token";
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Error responses every /api route may give, for the OpenAPI document and serialisation:
 * routes spread it into their response schemas, so every error body follows ApiError.
 */
export const apiErrors = {
  400: ApiError,
  401: ApiError,
  403: ApiError,
  404: ApiError,
  409: ApiError,
  413: ApiError,
  429: ApiError,
  500: ApiError,
} as const;

export function requireOperator(request: FastifyRequest): Operator {
  if (!request.operator) throw unauthorized();
  return request.operator;
}

/** The token of an `Authorization: Bearer <token>` header; undefined without one, null when malformed. */
export function bearerToken(request: FastifyRequest): string | null | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return undefined;
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] ?? null;
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Registers `routes` under /api behind authentication. */
export async function apiScope(
  app: FastifyInstance,
  { auth, routes }: { auth: AuthService; routes: (api: FastifyInstance) => Promise<void> },
) {
  await app.register(
    async (api) => {
      api.decorateRequest("operator", null);
      api.addHook("onRequest", async (request) => {
        const access: Access = request.routeOptions.config.access ?? (safeMethods.has(request.method) ? "signed-in" : "admin");
        if (access === "public") return;

        const token = bearerToken(request);
        if (token !== undefined) {
          request.operator = token ? await auth.operatorForApiToken(token) : null;
          if (!request.operator) throw unauthorized("Unknown or revoked API token");
        } else {
          const sessionToken = request.cookies[SESSION_COOKIE];
          request.operator = sessionToken ? await auth.operatorForSession(sessionToken) : null;
          if (!request.operator) throw unauthorized();
          if (!safeMethods.has(request.method)) {
            const sent = request.headers[CSRF_HEADER];
            if (typeof sent !== "string" || !sameSecret(sent, auth.csrfTokenFor(sessionToken as string))) {
              throw forbidden(`Missing or wrong ${CSRF_HEADER} header (get the token from GET /api/auth/me)`, "CSRF");
            }
          }
        }
        if (access !== "signed-in" && !roleAtLeast(request.operator.role, access)) {
          throw forbidden(
            access === "admin" ? "This needs the admin role" : "This needs the operator or admin role; viewers can read only",
          );
        }
      });
      await routes(api);
    },
    { prefix: "/api" },
  );
}
