// GET /api/live: the dashboard's WebSocket. Who may open it is decided BEFORE the upgrade,
// so a refused browser gets a plain HTTP 401/403 and never a 101: a cross-site page cannot
// ride the operator's cookie (Origin check), and no session means no channel.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { LIVE_PATH } from "@fleetwatch/contracts";
import type { Broker } from "../broker/broker.ts";
import { onOperatorChange } from "../broker/control.ts";
import { ApiProblem } from "../http/errors.ts";
import { apiErrors } from "../http/api.ts";
import { LiveConnection, type LiveLimits, type LivePermissions, type LiveStats } from "./live-connection.ts";

/** Who opened a live channel, and how to find out later whether they still may. */
export interface LiveGrant {
  userId: string;
  permissions: LivePermissions;
  /** Whether the credential the channel was opened with is still valid, with the same rights. */
  stillValid(): Promise<boolean>;
}

export interface LiveAccess {
  /** The grant of the operator behind the request (session cookie or API token), or null. */
  authenticate(request: FastifyRequest): Promise<LiveGrant | null>;
}

export interface LiveRouteOptions {
  broker: Broker;
  access: LiveAccess;
  limits: LiveLimits;
  /** Origins allowed besides the server's own (e.g. a dashboard served from elsewhere). */
  allowedOrigins: string[];
  /** Counts kept for the metrics. */
  stats?: LiveStats;
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
  const grantOf = new WeakMap<FastifyRequest, LiveGrant>();
  const open = new Map<LiveConnection, LiveGrant>();
  const stats = options.stats ?? { open: 0, droppedMessages: 0, droppedConnections: 0 };

  // Signing out, revoking a token, or changing a role must not leave a channel streaming
  // to whoever held the old credential: on any node's announcement, re-check that
  // operator's channels here and close those that lost their right.
  const stopWatching = await onOperatorChange(options.broker, (userId) => {
    for (const [connection, grant] of open) {
      if (grant.userId !== userId) continue;
      grant.stillValid().then(
        (valid) => {
          if (!valid) connection.revoke();
        },
        () => connection.revoke(), // cannot tell: fail closed; the dashboard reconnects and is checked afresh
      );
    }
  });

  // Registered inside the /api scope, so this is LIVE_PATH (/api/live).
  app.get(
    LIVE_PATH.slice("/api".length),
    {
      websocket: true,
      schema: {
        tags: ["live"],
        summary: "Live channel (WebSocket): subscribe to topic filters, receive messages and platform events",
        response: apiErrors,
      },
      preValidation: async (request) => {
        if (!isAllowedOrigin(request, options.allowedOrigins)) throw new ApiProblem(403, "This origin may not open the live channel");
        const grant = await options.access.authenticate(request);
        if (!grant) throw new ApiProblem(401, "Sign in, or send an API token");
        grantOf.set(request, grant);
      },
    },
    (socket, request) => {
      const grant = grantOf.get(request);
      if (!grant) return socket.close(1008, "unauthorized");
      // The upgraded request's TCP socket: resetAndDestroy() sends RST, so the kernel drops what it still holds for a browser that stopped reading.
      const connection = new LiveConnection(
        socket,
        options.broker,
        grant.permissions,
        options.limits,
        request.log,
        () => request.raw.socket.resetAndDestroy(),
        stats,
      );
      open.set(connection, grant);
      stats.open = open.size;
      socket.once("close", () => {
        open.delete(connection);
        stats.open = open.size;
      });
    },
  );

  // Shutdown: release broker subscriptions first; @fastify/websocket then closes the sockets
  // (1001 "going away"), and the dashboard reconnects with backoff.
  app.addHook("preClose", async () => {
    stopWatching();
    for (const connection of open.keys()) connection.dispose();
  });
}
