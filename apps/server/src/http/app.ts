// The HTTP side: Fastify with TypeBox contracts (validation, serialisation and the OpenAPI
// document from one schema), MQTT over WebSocket, the API modules and the dashboard.
// Infrastructure (database, broker) is created by server.ts and handed in (dependencies.ts).
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
import type { Logger } from "../logger.ts";
import { healthRoutes } from "../modules/health/health.routes.ts";
import { telemetryRoutes } from "../modules/telemetry/telemetry.routes.ts";
import { messagesRoutes } from "../modules/messages/messages.routes.ts";
import { platformRoutes } from "../modules/platform.routes.ts";
import { liveRoutes } from "../live/live.routes.ts";
import { announceOperatorChange } from "../broker/control.ts";
import { mqttOverWebSocket } from "./mqtt-websocket.ts";
import { dashboard } from "./dashboard.ts";
import { apiScope, bearerToken } from "./api.ts";
import { handleError } from "./errors.ts";
import { refuseNullCharacters } from "./null-characters.ts";
import type { AppDependencies } from "./dependencies.ts";
import { AuthRepository } from "../modules/auth/auth.repository.ts";
import { AuthService } from "../modules/auth/auth.service.ts";
import { authRoutes } from "../modules/auth/auth.routes.ts";
import { UsersService } from "../modules/users/users.service.ts";
import { usersRoutes } from "../modules/users/users.routes.ts";
import { DevicesRepository } from "../modules/devices/devices.repository.ts";
import { DevicesService } from "../modules/devices/devices.service.ts";
import { devicesRoutes } from "../modules/devices/devices.routes.ts";
import { brokerRoutes } from "../modules/broker/broker.routes.ts";

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

export async function buildApp(deps: AppDependencies): Promise<App> {
  const { config } = deps;
  const app = fastify({
    loggerInstance: deps.logger,
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

  const authRepository = new AuthRepository(deps.database);
  const operatorChanged = (userId: string) => announceOperatorChange(deps.broker, userId);
  const auth = new AuthService(authRepository, config, deps.logger, operatorChanged);
  const users = new UsersService(authRepository, operatorChanged);
  const devices = new DevicesService(new DevicesRepository(deps.database), deps.broker, deps.logger);
  const httpPort = () => {
    const address = app.server.address();
    return typeof address === "object" && address ? address.port : config.http.port;
  };
  const endpoints = { publicHost: config.publicHost, mqttPorts: deps.mqttPorts, httpPort };

  await app.register(healthRoutes, deps);
  await app.register(apiScope, {
    auth,
    routes: async (api) => {
      await api.register(authRoutes, { auth, sessionTtlMs: config.auth.sessionTtlMs });
      await api.register(usersRoutes, { users });
      await api.register(devicesRoutes, { devices, ...endpoints });
      await api.register(brokerRoutes, { broker: deps.broker, counters: deps.counters, ingest: deps.ingest, endpoints });
      await api.register(telemetryRoutes, deps);
      await api.register(messagesRoutes, deps);
      await api.register(platformRoutes, deps.platform);
      await api.register(liveRoutes, {
        broker: deps.broker,
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
              permissions: { canSubscribe: (filter) => deps.gate.authorizeSubscribe(principal, filter) },
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
  await app.register(mqttOverWebSocket, { transport: deps.transport });
  await app.register(dashboard);
  return app;
}
