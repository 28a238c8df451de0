// The composition root: starts every part in dependency order and stops them in reverse.
// Used by main.ts and by the tests, which start real servers on ephemeral ports.
import { migrateDatabase } from "@fleetwatch/prisma";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { startEmbeddedPostgres } from "./db/embedded-postgres.ts";
import { connectDatabase, openPool, type Database } from "./db/database.ts";
import { closeBroker, createBroker, type Broker } from "./broker/broker.ts";
import { redisEmitter } from "./broker/redis-bridge.ts";
import { startMqttListeners } from "./broker/listeners.ts";
import { createGate } from "./broker/gate.ts";
import { BrokerCounters } from "./broker/limits.ts";
import { createTransport, type MqttTransport } from "./broker/transport.ts";
import { DevicesRepository } from "./modules/devices/devices.repository.ts";
import { AuthRepository } from "./modules/auth/auth.repository.ts";
import { AuthService } from "./modules/auth/auth.service.ts";
import { buildApp, type App } from "./http/app.ts";
import { startIngest, type Ingest } from "./ingest/ingest.ts";
import { PgPersistence } from "./broker/persistence/pg-persistence.ts";
import { platformEvents } from "./broker/platform-events.ts";
import { PresenceRepository } from "./modules/presence/presence.repository.ts";
import { PresenceService } from "./modules/presence/presence.service.ts";
import { AlertsRepository } from "./modules/alerts/alerts.repository.ts";
import { AlertsService } from "./modules/alerts/alerts.service.ts";
import { StateRepository } from "./modules/state/state.repository.ts";
import { StateService } from "./modules/state/state.service.ts";
import { FleetRepository } from "./modules/fleet/fleet.repository.ts";
import { PortInUseError } from "./listen.ts";

export interface Fleetwatch {
  app: App;
  broker: Broker;
  /** This node's broker event counters (refusals, limit disconnects). */
  counters: BrokerCounters;
  transport: MqttTransport;
  database: Database;
  ingest: Ingest;
  databaseUrl: string;
  ports: { http: number; mqtt: number; mqtts?: number };
  /** Graceful stop: no new connections, clients closed, writes finished, database closed. */
  close(): Promise<void>;
}

type Cleanup = { name: string; run: () => Promise<void> };

export async function startFleetwatch(config: Config, logger: Logger): Promise<Fleetwatch> {
  // Everything started so far, in start order; stopped in reverse, also when a later step fails.
  const started: Cleanup[] = [];
  const stopAll = async () => {
    for (const step of started.reverse()) {
      try {
        await step.run();
      } catch (error) {
        logger.error({ err: error }, `failed to stop ${step.name}`);
      }
    }
    started.length = 0;
  };

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = await startEmbeddedPostgres(config.dataDir, logger);
      started.push({ name: "embedded PostgreSQL", run: () => embedded.stop() });
      databaseUrl = embedded.url;
    }

    const applied = await migrateDatabase(databaseUrl);
    logger.info({ applied }, applied.length ? `applied ${applied.length} database migration(s)` : "database schema is up to date");

    const database = connectDatabase(databaseUrl, logger);
    started.push({ name: "database pool", run: () => database.close() });
    // Presence writes (a transaction per connect and disconnect) get a pool of their own: in a
    // connect storm they queue there, and never ahead of the credential lookups that every
    // CONNECT needs before its CONNACK (measured: bench connections). Closed after presence
    // has recorded the disconnects of shutdown (stops run in reverse order).
    const presencePool = openPool(databaseUrl, logger, { max: 4, name: "presence" });
    started.push({ name: "presence database pool", run: () => presencePool.end() });

    // Stopped after the broker (reverse order), so the messages the broker accepted up to
    // its close are flushed and committed before the database goes away.
    const ingest = await startIngest(databaseUrl, config, logger);
    started.push({ name: "ingest writer", run: () => ingest.close() });

    const auth = new AuthService(new AuthRepository(database), config, logger);
    await auth.ensureFirstAdmin();

    const counters = new BrokerCounters();
    const devices = new DevicesRepository(database);
    const gate = createGate({
      directory: {
        findDeviceCredentials: (id) => devices.findCredentials(id),
        findOperatorByApiToken: async (token) => {
          const operator = await auth.operatorForApiToken(token);
          return operator && { userId: operator.userId, email: operator.email, role: operator.role };
        },
      },
      limits: config.broker,
      allowAnonymous: config.broker.allowAnonymous,
      counters,
      logger: logger.child({ component: "broker" }),
    });
    if (config.broker.allowAnonymous) {
      logger.warn(
        "MQTT_ALLOW_ANONYMOUS=true: ANY MQTT client can connect WITHOUT credentials and publish or subscribe to ANY topic. Use this only for development and interoperability testing.",
      );
    }

    // Retained messages, sessions and wills live in PostgreSQL (broker/persistence).
    const persistence = new PgPersistence({
      pool: database.pool,
      queueLimit: config.sessions.queueLimit,
      onDrop: (clientId, dropped) => logger.warn({ clientId, dropped }, "session queue full: dropped the oldest queued messages"),
      onError: (error) => logger.error({ err: error }, "retained message storage failed"),
    });
    started.push({ name: "broker persistence", run: () => persistence.destroy() });
    // Presence and alerts stop after the broker (pushed before it), so that the disconnects
    // of the clients it closes are still recorded.
    const services: { presence?: PresenceService; alerts?: AlertsService } = {};
    started.push({ name: "presence and alerts", run: async () => void (await services.presence?.stop(), await services.alerts?.stop()) });

    const broker = await createBroker(logger, {
      gate,
      counters,
      limits: config.broker,
      // After the gate's access check: store, then acknowledge. A retained message is
      // committed before its ack too (see PgPersistence.storeRetained for why not later).
      publishSteps: [
        (client, packet) => ingest.storeBeforeAck(client, packet),
        async (_client, { retain, topic, payload, qos }) =>
          retain ? persistence.storeRetainedDurably({ cmd: "publish", topic, payload, qos, retain }) : undefined,
      ],
      onPubrel: (client, messageId) => ingest.releaseQos2(client, messageId),
      onCleanSession: (client) => ingest.discardQos2(client),
      aedes: { persistence, ...(config.redisUrl ? { mq: await redisEmitter(config.redisUrl, logger) } : {}) },
    });
    started.push({ name: "broker", run: () => closeBroker(broker) });

    const events = platformEvents(broker, logger);
    const presenceRepository = new PresenceRepository(presencePool);
    const alerts = new AlertsService(new AlertsRepository(database.pool), events, logger.child({ component: "alerts" }), {
      sweepMs: config.alerts.sweepMs,
    });
    services.alerts = alerts;
    await alerts.start(broker);
    services.presence = new PresenceService(presenceRepository, events, logger.child({ component: "presence" }), {
      offlineGraceMs: config.presence.offlineGraceMs,
      flushMs: config.presence.flushMs,
      sweepMs: config.alerts.sweepMs,
      onChange: (deviceIds) => alerts.syncOffline(deviceIds),
    });
    await services.presence.start(broker);

    const transport = createTransport(broker, { limits: config.broker, counters, logger });
    const mqtt = await startMqttListeners(transport, config);
    started.push({ name: "MQTT listeners", run: () => mqtt.stop() });

    let mqttAccepting = true;
    const app = await buildApp({
      config,
      logger,
      database,
      broker,
      brokerListening: () => mqttAccepting,
      transport,
      counters,
      mqttPorts: { mqtt: mqtt.port, mqtts: mqtt.tlsPort },
      gate,
      ingest,
      platform: {
        alerts,
        presence: presenceRepository,
        state: new StateService(new StateRepository(database.pool)),
        fleet: new FleetRepository(database.pool),
      },
    });
    started.push({ name: "HTTP server", run: () => app.close() });
    try {
      await app.listen({ port: config.http.port, host: config.host });
    } catch (error) {
      throw (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? new PortInUseError(config.http.port, "PORT") : error;
    }
    const address = app.server.address();
    const httpPort = typeof address === "object" && address ? address.port : config.http.port;

    logger.info(
      { http: httpPort, mqtt: mqtt.port, mqtts: mqtt.tlsPort },
      `Fleetwatch is running: dashboard http://localhost:${httpPort}/ · MQTT mqtt://localhost:${mqtt.port} · MQTT over WebSocket ws://localhost:${httpPort}/mqtt`,
    );

    return {
      app,
      broker,
      counters,
      transport,
      database,
      ingest,
      databaseUrl,
      ports: { http: httpPort, mqtt: mqtt.port, ...(mqtt.tlsPort ? { mqtts: mqtt.tlsPort } : {}) },
      async close() {
        mqttAccepting = false;
        // Reverse start order: stop accepting HTTP and MQTT connections, close the broker's
        // clients, flush the ingest writer, then the database pool (in-flight queries finish first: pg's end() waits
        // for checked-out clients), then the embedded PostgreSQL.
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
