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
import fastifySwagger from "@fastify/swagger";
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
import { apiScope, bearerToken } from "./api.ts";
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
import { dashboardsRoutes } from "../modules/dashboards/dashboards.routes.ts";
import type { DashboardsService } from "../modules/dashboards/dashboards.service.ts";

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
  dashboards: DashboardsService;
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
}

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

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

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: "Fleetwatch API", version: "0.1.0", description: "Fleet registry, telemetry history, alerts and live streams." },
    },
  });
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
      await api.register(dashboardsRoutes, { dashboards: services.dashboards });
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
      });
    },
  });
  await app.register(mqttOverWebSocket, { transport: options.transport });
  await app.register(dashboard);
  return app;
}
