// GET /api/live: the dashboard's WebSocket. Who may open it is decided BEFORE the upgrade,
// so a refused browser gets a plain HTTP 401/403 and never a 101: a cross-site page cannot
// ride the operator's cookie (Origin check), and no session means no channel.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { LIVE_PATH } from "@fleetwatch/contracts";
import type { Broker } from "../broker/broker.ts";
import { LiveConnection, type LiveLimits, type LivePermissions } from "./live-connection.ts";

export interface LiveAccess {
  /** The permissions of the operator behind the request (session cookie or API token), or null. */
  authenticate(request: FastifyRequest): Promise<LivePermissions | null>;
}

export interface LiveRouteOptions {
  broker: Broker;
  access: LiveAccess;
  limits: LiveLimits;
  /** Origins allowed besides the server's own (e.g. a dashboard served from elsewhere). */
  allowedOrigins: string[];
}

/** Same-origin, or listed. Non-browser clients (scripts with a token) send no Origin. */
export function isAllowedOrigin(request: FastifyRequest, allowedOrigins: string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export async function liveRoutes(app: FastifyInstance, options: LiveRouteOptions) {
  const permissionsOf = new WeakMap<FastifyRequest, LivePermissions>();
  const open = new Set<LiveConnection>();

  // Registered inside the /api scope, so this is LIVE_PATH (/api/live).
  app.get(
    LIVE_PATH.slice("/api".length),
    {
      websocket: true,
      schema: { tags: ["live"], summary: "Live channel (WebSocket): subscribe to topic filters, receive messages and platform events" },
      preValidation: async (request, reply) => {
        if (!isAllowedOrigin(request, options.allowedOrigins)) {
          return reply.code(403).send({ statusCode: 403, error: "Forbidden", message: "This origin may not open the live channel" });
        }
        const permissions = await options.access.authenticate(request);
        if (!permissions) return reply.code(401).send({ statusCode: 401, error: "Unauthorized", message: "Sign in, or send an API token" });
        permissionsOf.set(request, permissions);
      },
    },
    (socket, request) => {
      const permissions = permissionsOf.get(request);
      if (!permissions) return socket.close(1008, "unauthorized");
      const connection = new LiveConnection(socket, options.broker, permissions, options.limits, request.log);
      open.add(connection);
      socket.once("close", () => open.delete(connection));
    },
  );

  // Shutdown: release broker subscriptions first; @fastify/websocket then closes the sockets
  // (1001 "going away"), and the dashboard reconnects with backoff.
  app.addHook("preClose", async () => {
    for (const connection of open) connection.dispose();
  });
}
