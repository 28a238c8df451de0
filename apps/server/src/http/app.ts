// The HTTP side: Fastify with TypeBox contracts (validation, serialisation and the OpenAPI
// document from one schema), MQTT over WebSocket, the API modules and the dashboard.
// Infrastructure (database, broker) is created by server.ts and handed in, because its
// shutdown order spans more than HTTP.
import { fastify, type FastifyInstance } from "fastify";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import fastifyWebsocket from "@fastify/websocket";
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import type { Broker } from "../broker/broker.ts";
import type { Logger } from "../logger.ts";
import { healthRoutes } from "../modules/health/health.routes.ts";
import { platformRoutes, type PlatformApi } from "../modules/platform.routes.ts";
import { mqttOverWebSocket } from "./mqtt-websocket.ts";
import { dashboard } from "./dashboard.ts";

export interface AppDependencies {
  config: Config;
  logger: Logger;
  database: Database;
  broker: Broker;
  /** Whether the MQTT listeners accept connections (for /readyz). */
  brokerListening: () => boolean;
  /** Retained state, presence, alerts and fleet summary. */
  platform: PlatformApi;
}

export type App = FastifyInstance<any, any, any, Logger, TypeBoxTypeProvider>;

export async function buildApp(deps: AppDependencies): Promise<App> {
  const app = fastify({ loggerInstance: deps.logger, forceCloseConnections: true }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: "Fleetwatch API", version: "0.1.0", description: "Fleet registry, telemetry history, alerts and live streams." },
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  await app.register(fastifyWebsocket);

  await app.register(healthRoutes, deps);
  await app.register(platformRoutes, { prefix: "/api", ...deps.platform });
  await app.register(mqttOverWebSocket, { broker: deps.broker });
  await app.register(dashboard);
  return app;
}
