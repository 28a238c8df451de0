// The HTTP side: Fastify with TypeBox contracts (validation, serialisation and the OpenAPI
// document from one schema), MQTT over WebSocket, the API modules and the dashboard.
// Everything it serves is built by the composition root (server.ts) and handed in: each
// route module receives the services it uses, and nothing else.
import {
  fastify,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import { readFileSync } from "node:fs";
import fastifySwagger from "@fastify/swagger";
import type { FastifySchema, RouteOptions } from "fastify";
import { LIVE_PATH, LiveClientMessage, LiveServerMessage } from "@fleetwatch/contracts";
import fastifySwaggerUi from "@fastify/swagger-ui";
import fastifyWebsocket from "@fastify/websocket";
import fastifyCookie from "@fastify/cookie";
import fastifyHelmet from "@fastify/helmet";
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { Broker } from "../broker/broker.ts";
import type { Gate } from "../broker/gate.ts";
import type { BrokerCounters } from "../broker/limits.ts";
import type { MqttTransport } from "../broker/transport.ts";
import type { Ingest } from "../ingest/ingest.ts";
import { healthRoutes, type ReadinessChecks } from "../modules/health/health.routes.ts";
import { telemetryRoutes } from "../modules/telemetry/telemetry.routes.ts";
import type { TelemetryService } from "../modules/telemetry/telemetry.service.ts";
import { messagesRoutes } from "../modules/messages/messages.routes.ts";
import type { MessagesService } from "../modules/messages/messages.service.ts";
import { stateRoutes } from "../modules/state/state.routes.ts";
import type { StateService } from "../modules/state/state.service.ts";
import { presenceRoutes } from "../modules/presence/presence.routes.ts";
import type { PresenceService } from "../modules/presence/presence.service.ts";
import { alertsRoutes } from "../modules/alerts/alerts.routes.ts";
import type { AlertsService } from "../modules/alerts/alerts.service.ts";
import { fleetRoutes } from "../modules/fleet/fleet.routes.ts";
import type { FleetService } from "../modules/fleet/fleet.service.ts";
import { liveRoutes } from "../live/live.routes.ts";
import { mqttOverWebSocket } from "./mqtt-websocket.ts";
import { dashboard } from "./dashboard.ts";
import { apiScope, bearerToken, CSRF_HEADER, SESSION_COOKIE, type Access } from "./api.ts";
import { handleError } from "./errors.ts";
import { refuseNullCharacters } from "./null-characters.ts";
import type { AuthService } from "../modules/auth/auth.service.ts";
import { authRoutes } from "../modules/auth/auth.routes.ts";
import type { UsersService } from "../modules/users/users.service.ts";
import { usersRoutes } from "../modules/users/users.routes.ts";
import type { DevicesService } from "../modules/devices/devices.service.ts";
import { devicesRoutes } from "../modules/devices/devices.routes.ts";
import { brokerAdminRoutes } from "../modules/broker-admin/broker-admin.routes.ts";
import { preferencesRoutes } from "../modules/preferences/preferences.routes.ts";
import type { PreferencesService } from "../modules/preferences/preferences.service.ts";
import { notificationsRoutes } from "../modules/notifications/notifications.routes.ts";
import type { NotificationsService } from "../modules/notifications/notifications.service.ts";
import { commandsRoutes } from "../modules/commands/commands.routes.ts";
import type { CommandsService } from "../modules/commands/commands.service.ts";
import type { MetricsService } from "../modules/metrics/metrics.service.ts";
import { metricsRoutes } from "../modules/metrics/metrics.routes.ts";
import type { LiveStats } from "../live/live-connection.ts";
import { dashboardsRoutes } from "../modules/dashboards/dashboards.routes.ts";
import type { DashboardsService } from "../modules/dashboards/dashboards.service.ts";
import { brokerClientsRoutes } from "../modules/broker-clients/broker-clients.routes.ts";
import type { BrokerClientsService } from "../modules/broker-clients/broker-clients.service.ts";

/** The domain services the API serves, each built once by the composition root. */
export interface AppServices {
  auth: AuthService;
  users: UsersService;
  devices: DevicesService;
  telemetry: TelemetryService;
  messages: MessagesService;
  state: StateService;
  presence: PresenceService;
  alerts: AlertsService;
  fleet: FleetService;
  preferences: PreferencesService;
  notifications: NotificationsService;
  commands: CommandsService;
  dashboards: DashboardsService;
  brokerClients: BrokerClientsService;
}

export interface AppOptions {
  config: Config;
  logger: Logger;
  services: AppServices;
  /** The embedded broker: the live channel subscribes through it; /api/broker reports on it. */
  broker: Broker;
  counters: BrokerCounters;
  /** The broker's access rules, shared with the live channel's subscriptions. */
  gate: Gate;
  /** Where MQTT over WebSocket connections enter the broker. */
  transport: MqttTransport;
  /** Ingest's counts, reported with the broker's at /api/broker/stats. */
  ingest: Pick<Ingest, "stats">;
  /** The MQTT ports actually bound (for the endpoints handed to devices). */
  mqttPorts: { mqtt: number; mqtts?: number | undefined };
  readiness: ReadinessChecks;
  /** Prometheus metrics (GET /metrics and HTTP durations); absent or disabled: none. */
  metrics?: { service: MetricsService; live: LiveStats } | undefined;
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);
const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

/**
 * The OpenAPI document: Fleetwatch's own title and version, the three ways to authenticate,
 * and on every operation under /api the role it needs (x-fleetwatch-access, with the same
 * default as apiScope: reading needs a sign-in, changing needs admin) and the security it
 * accepts: the session cookie (with the CSRF header for changes) or a Bearer API token.
 */
function openApiOptions() {
  return {
    openapi: {
      info: {
        title: "Fleetwatch API",
        version,
        description:
          "Fleetwatch: IoT fleet monitoring with an embedded MQTT broker. Device registry, telemetry history, presence, alerts and the live channel.\n\n" +
          "Authenticate with the session cookie from POST /api/auth/login (changes then also need the x-csrf-token header, from the login answer or GET /api/auth/me), " +
          "or with an API token as Authorization: Bearer <token>. Roles: viewer < operator < admin; each operation's x-fleetwatch-access says what it needs " +
          "(public, signed-in, operator, admin). Errors are JSON {statusCode, error, message, code?}.",
      },
      components: {
        securitySchemes: {
          session: {
            type: "apiKey" as const,
            in: "cookie" as const,
            name: SESSION_COOKIE,
            description: "Session cookie set by POST /api/auth/login",
          },
          csrf: {
            type: "apiKey" as const,
            in: "header" as const,
            name: CSRF_HEADER,
            description: "CSRF token for changes made with the session cookie",
          },
          bearer: {
            type: "http" as const,
            scheme: "bearer",
            description: "API token (Settings → API tokens), or METRICS_TOKEN for GET /metrics",
          },
        },
        // OpenAPI has no WebSocket operations: the live channel's messages are schemas, referenced from GET /api/live.
        schemas: { LiveClientMessage: plain(LiveClientMessage), LiveServerMessage: plain(LiveServerMessage) },
      },
    },
    transform: ({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) => {
      if (!url.startsWith("/api/")) return { schema, url };
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const access: Access = route.config?.access ?? (methods.every((method) => safeMethods.has(method)) ? "signed-in" : "admin");
      const changes = !methods.every((method) => safeMethods.has(method));
      const security: Record<string, string[]>[] =
        access === "public" ? [] : [changes ? { session: [], csrf: [] } : { session: [] }, { bearer: [] }];
      const documented = { ...schema, security, "x-fleetwatch-access": access };
      if (url !== LIVE_PATH) return { schema: documented, url };
      // @fastify/websocket hides its routes from the document; the live channel is the API's own.
      return {
        schema: {
          ...documented,
          hide: false,
          description:
            "Upgrade to a WebSocket (401/403 before the upgrade when not allowed). Then JSON text frames: the browser sends LiveClientMessage, the server sends LiveServerMessage (see x-fleetwatch-messages and the schemas).",
          "x-fleetwatch-messages": {
            client: { $ref: "#/components/schemas/LiveClientMessage" },
            server: { $ref: "#/components/schemas/LiveServerMessage" },
          },
        },
        url,
      };
    },
  };
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, services, broker } = options;
  const app = fastify({
    loggerInstance: options.logger,
    forceCloseConnections: true,
    bodyLimit: config.bodyLimitBytes,
    // Only the listed proxies may set the client's address and protocol (X-Forwarded-For/-Proto).
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setErrorHandler(handleError);
  app.addHook("preValidation", refuseNullCharacters);

  await app.register(fastifySwagger, openApiOptions());
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  // The dashboard and /docs load only their own scripts; styles may be inline (React,
  // Swagger UI). No upgrade-insecure-requests: plain-HTTP installs on a LAN must keep working.
  await app.register(fastifyHelmet, (instance) => ({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...(instance as unknown as { swaggerCSP: { script: string[] } }).swaggerCSP.script],
        styleSrc: ["'self'", "'unsafe-inline'", ...(instance as unknown as { swaggerCSP: { style: string[] } }).swaggerCSP.style],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // Sent below, over HTTPS only: over plain HTTP it is meaningless to browsers [RFC 6797 8.1].
    strictTransportSecurity: false,
  }));
  // HTTPS directly, or through a trusted proxy (X-Forwarded-Proto: TRUST_PROXY decides whom to believe).
  app.addHook("onRequest", async (request, reply) => {
    if (request.protocol === "https") reply.header("strict-transport-security", "max-age=31536000; includeSubDomains");
  });
  await app.register(fastifyCookie);
  // maxPayload bounds one WebSocket frame before ws buffers it; the transport's packet
  // guard bounds MQTT packets spread over several frames.
  await app.register(fastifyWebsocket, { options: { maxPayload: config.broker.maxPacketBytes } });

  const { auth } = services;
  const httpPort = () => {
    const address = app.server.address();
    return typeof address === "object" && address ? address.port : config.http.port;
  };
  const endpoints = { publicHost: config.publicHost, mqttPorts: options.mqttPorts, httpPort };

  const metrics = options.metrics;
  if (metrics && config.metrics.enabled) {
    // The route's pattern, not the URL: bounded label values whatever clients request.
    app.addHook("onResponse", async (request, reply) =>
      metrics.service.observeHttp(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000),
    );
    await app.register(metricsRoutes, { metrics: metrics.service, token: config.metrics.token });
  }
  await app.register(healthRoutes, { checks: options.readiness });
  await app.register(apiScope, {
    auth,
    routes: async (api) => {
      await api.register(authRoutes, { auth, sessionTtlMs: config.auth.sessionTtlMs });
      await api.register(usersRoutes, { users: services.users });
      await api.register(devicesRoutes, { devices: services.devices, ...endpoints });
      await api.register(brokerAdminRoutes, { broker, counters: options.counters, ingest: options.ingest, endpoints });
      await api.register(telemetryRoutes, { telemetry: services.telemetry });
      await api.register(messagesRoutes, { messages: services.messages });
      await api.register(stateRoutes, { state: services.state });
      await api.register(presenceRoutes, { presence: services.presence });
      await api.register(alertsRoutes, { alerts: services.alerts });
      await api.register(fleetRoutes, { fleet: services.fleet });
      await api.register(preferencesRoutes, { preferences: services.preferences });
      await api.register(notificationsRoutes, { notifications: services.notifications });
      await api.register(commandsRoutes, { commands: services.commands });
      await api.register(dashboardsRoutes, { dashboards: services.dashboards });
      await api.register(brokerClientsRoutes, { brokerClients: services.brokerClients });
      await api.register(liveRoutes, {
        broker,
        // The /api scope has authenticated the upgrade request (401 before any 101); an
        // operator may subscribe to what the broker's gate lets operators subscribe to.
        access: {
          authenticate: async (request) => {
            const operator = request.operator;
            if (!operator) return null;
            const principal = { kind: "operator", userId: operator.userId, role: operator.role } as const;
            const credential = operator.sessionToken ?? bearerToken(request);
            return {
              userId: operator.userId,
              permissions: { canSubscribe: (filter) => options.gate.authorizeSubscribe(principal, filter) },
              // Re-run when the operator's credentials change (see live.routes.ts).
              stillValid: async () => {
                if (!credential) return false;
                const now =
                  operator.via === "session" ? await auth.operatorForSession(credential) : await auth.operatorForApiToken(credential);
                return now !== null && now.role === operator.role;
              },
            };
          },
        },
        limits: config.live,
        allowedOrigins: config.live.allowedOrigins,
        ...(metrics ? { stats: metrics.live } : {}),
      });
    },
  });
  await app.register(mqttOverWebSocket, { transport: options.transport });
  await app.register(dashboard);
  return app;
}
