// The composition root: builds every repository and service once and starts every part in
// dependency order, and stops them in reverse. Nothing else constructs a service: route
// modules receive the services they use (http/app.ts). Used by main.ts and by the tests,
// which start real servers on ephemeral ports.
import { randomUUID } from "node:crypto";
import { migrateDatabase } from "@fleetwatch/prisma";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { startEmbeddedPostgres } from "./db/embedded-postgres.ts";
import { connectDatabase, openPool, type Database } from "./db/database.ts";
import { closeBroker, createBroker, type Broker } from "./broker/broker.ts";
import { redisEmitter } from "./broker/redis-bridge.ts";
import { retainedExpiry } from "./broker/message-expiry.ts";
import { DurableSessionTimers } from "./broker/session-timers.ts";
import { startMqttListeners } from "./broker/listeners.ts";
import { createGate } from "./broker/gate.ts";
import { BrokerCounters } from "./broker/limits.ts";
import { createTransport, type MqttTransport } from "./broker/transport.ts";
import { announceOperatorChange } from "./broker/control.ts";
import { buildApp, type App, type AppServices } from "./http/app.ts";
import { startIngest, type Ingest } from "./ingest/ingest.ts";
import { PgPersistence } from "./broker/persistence/pg-persistence.ts";
import { platformEvents } from "./broker/platform-events.ts";
import { AlertsRepository } from "./modules/alerts/alerts.repository.ts";
import { AlertsService } from "./modules/alerts/alerts.service.ts";
import { AuthRepository } from "./modules/auth/auth.repository.ts";
import { apiTokenOperator, AuthService } from "./modules/auth/auth.service.ts";
import { DevicesRepository } from "./modules/devices/devices.repository.ts";
import { DevicesService } from "./modules/devices/devices.service.ts";
import { FleetRepository } from "./modules/fleet/fleet.repository.ts";
import { FleetService } from "./modules/fleet/fleet.service.ts";
import { PreferencesRepository } from "./modules/preferences/preferences.repository.ts";
import { PreferencesService } from "./modules/preferences/preferences.service.ts";
import { DashboardsRepository } from "./modules/dashboards/dashboards.repository.ts";
import { DashboardsService } from "./modules/dashboards/dashboards.service.ts";
import { MessagesRepository } from "./modules/messages/messages.repository.ts";
import { MessagesService } from "./modules/messages/messages.service.ts";
import { PresenceRepository } from "./modules/presence/presence.repository.ts";
import { PresenceService } from "./modules/presence/presence.service.ts";
import { StateRepository } from "./modules/state/state.repository.ts";
import { StateService } from "./modules/state/state.service.ts";
import { TelemetryRepository } from "./modules/telemetry/telemetry.repository.ts";
import { TelemetryService } from "./modules/telemetry/telemetry.service.ts";
import { UsersService } from "./modules/users/users.service.ts";
import { NotificationsRepository } from "./modules/notifications/notifications.repository.ts";
import { NotificationsService } from "./modules/notifications/notifications.service.ts";
import { NotificationDispatcher } from "./modules/notifications/notifications.dispatcher.ts";
import { Senders } from "./modules/notifications/senders.ts";
import { PortInUseError } from "./listen.ts";
import { CommandsRepository } from "./modules/commands/commands.repository.ts";
import { CommandsService } from "./modules/commands/commands.service.ts";
import { observeCommandDelivery } from "./broker/command-delivery.ts";
import { SharedSubscriptions } from "./broker/shared-subscriptions.ts";
import { SharedSubscriptionsRepository } from "./broker/shared-subscriptions.repository.ts";
import { MetricsService } from "./modules/metrics/metrics.service.ts";
import { poolStats } from "./db/database.ts";
import { ClientRegistry } from "./broker/client-registry.ts";
import { BrokerClientsRepository } from "./modules/broker-clients/broker-clients.repository.ts";
import { BrokerClientsService } from "./modules/broker-clients/broker-clients.service.ts";

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

  // Built first: the ingest writer reports each commit to it; the rest is read at scrape time.
  const metrics = new MetricsService();
  const liveStats = { open: 0, droppedMessages: 0, droppedConnections: 0 };

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
    // Closed after presence has recorded the disconnects of shutdown (stops run in reverse order).
    const presencePool = openPool(databaseUrl, logger, { max: 4, name: "presence" });
    started.push({ name: "presence database pool", run: () => presencePool.end() });

    // Stopped after the broker (reverse order), so the messages the broker accepted up to
    // its close are flushed and committed before the database goes away.
    const ingest = await startIngest(databaseUrl, config, logger, { onCommit: metrics.observeCommit });
    started.push({ name: "ingest writer", run: () => ingest.close() });

    // Repositories: the only code that touches the database (README, "One rule for SQL"). Those
    // of the models schema.prisma declares get Prisma's client, the others a pg pool.
    const repositories = {
      devices: new DevicesRepository(database.prisma),
      auth: new AuthRepository(database.prisma),
      alerts: new AlertsRepository(database.pool),
      // Presence writes (a transaction per connect and disconnect) get a pool of their own: in
      // a connect storm they queue there, and never ahead of the credential lookups that every
      // CONNECT needs before its CONNACK (measured: bench connections).
      presence: new PresenceRepository(presencePool),
      state: new StateRepository(database.pool),
      telemetry: new TelemetryRepository(database.pool),
      messages: new MessagesRepository(database.pool),
      fleet: new FleetRepository(database.pool),
      preferences: new PreferencesRepository(database.prisma),
      notifications: new NotificationsRepository(database.pool),
      commands: new CommandsRepository(database.pool),
      dashboards: new DashboardsRepository(database.prisma),
      brokerClients: new BrokerClientsRepository(database.pool),
    };

    const counters = new BrokerCounters();
    const gate = createGate({
      directory: {
        findDeviceCredentials: (id) => repositories.devices.findCredentials(id),
        findOperatorByApiToken: async (token) => {
          const operator = await apiTokenOperator(repositories.auth, token);
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

    // Presence and alerts follow the broker's events. They are built before it and stop after
    // it (reverse order), so that the disconnects of the clients it closes are still recorded.
    const alerts = new AlertsService(repositories.alerts, repositories.devices, logger.child({ component: "alerts" }), {
      sweepMs: config.alerts.sweepMs,
    });
    const presence = new PresenceService(repositories.presence, logger.child({ component: "presence" }), {
      offlineGraceMs: config.presence.offlineGraceMs,
      flushMs: config.presence.flushMs,
      sweepMs: config.alerts.sweepMs,
      onChange: (deviceIds) => alerts.syncOffline(deviceIds),
    });
    started.push({ name: "presence and alerts", run: async () => void (await presence.stop(), await alerts.stop()) });
    // Like presence: stopped after the broker, so the disconnects of the clients it closes are written.
    const clientRegistry = new ClientRegistry(repositories.brokerClients, logger.child({ component: "client-registry" }), {
      flushMs: config.presence.flushMs,
      sweepMs: config.alerts.sweepMs,
      nodeStaleMs: presence.nodeStaleMs,
    });
    started.push({ name: "client registry", run: () => clientRegistry.stop() });

    // Built once the broker exists (it publishes through it); devices' answers reach it through
    // the publish pipeline, which runs only after the MQTT listeners start, below.
    const late: { commands?: CommandsService } = {};
    const shared = new SharedSubscriptions(new SharedSubscriptionsRepository(database.pool), logger);
    // MQTT 5 session expiry and delayed wills in PostgreSQL: aedes hands the delayed wills over.
    const sessionTimers = new DurableSessionTimers(persistence, { sweepMs: config.sessions.expirySweepMs, logger });
    const nodeId = randomUUID();
    const broker = await createBroker(logger, {
      gate,
      counters,
      limits: config.broker,
      // After the gate's access check: store, then acknowledge. A retained message is
      // committed before its ack too (see PgPersistence.storeRetained for why not later).
      publishSteps: [
        (client, packet) => ingest.storeBeforeAck(client, packet),
        async (_client, { retain, topic, payload, qos, properties }) =>
          retain
            ? persistence.storeRetainedDurably({ cmd: "publish", topic, payload, qos, retain, ...retainedExpiry(properties) })
            : undefined,
        (client, packet) => late.commands?.recordResponse(client, packet) ?? Promise.resolve(),
      ],
      onPubrel: (client, messageId) => ingest.releaseQos2(client, messageId),
      onCleanSession: (client) => ingest.discardQos2(client),
      shared,
      aedes: {
        persistence,
        delayWill: sessionTimers.delayWill,
        // A v5 client at its Receive Maximum: messages held back per connection, bounded like a session's queue.
        outboundQueueLimit: config.sessions.queueLimit,
        // Named here (aedes would pick a random one), so the Redis connections carry it too.
        id: nodeId,
        ...(config.redisUrl
          ? {
              mq: await redisEmitter(config.redisUrl, logger, {
                nodeId,
                // Subscription changes other nodes broadcast meanwhile were lost with the rest.
                onResubscribed: () =>
                  void persistence
                    .reloadSubscriptions()
                    .catch((error: unknown) => logger.error({ err: error }, "reloading the subscriptions of persistent sessions failed")),
              }),
            }
          : {}),
      },
    });
    started.push({ name: "broker", run: () => closeBroker(broker) });
    started.push({ name: "shared subscriptions", run: async () => shared.stop() });
    await sessionTimers.start(broker);
    started.push({ name: "session expiry and will delay sweep", run: () => sessionTimers.stop() });

    const events = platformEvents(broker, logger);
    // Notifications: the alerts repository queues them with each alert change; every node's
    // dispatcher delivers the outbox (stopped before the database pool, in reverse order).
    const senders = new Senders({ timeoutMs: config.notifications.timeoutMs, smtp: config.notifications.smtp, userAgent: "Fleetwatch" });
    const dispatcher = new NotificationDispatcher(repositories.notifications, senders, logger.child({ component: "notifications" }), {
      ...config.notifications,
      historyDays: config.retentionDays,
    });
    started.push({ name: "notification dispatcher", run: () => dispatcher.stop() });
    const commandsService = new CommandsService(
      repositories.commands,
      repositories.devices,
      broker,
      events,
      logger.child({ component: "commands" }),
      // The sweep that expires commands whose sending node died (the sender also expires its own on time).
      { sweepMs: config.alerts.sweepMs },
    );
    late.commands = commandsService;
    observeCommandDelivery(broker, (deviceId, commandId) => commandsService.delivered(deviceId, commandId));
    commandsService.start();
    started.push({ name: "command tracking", run: () => commandsService.stop() });
    const operatorChanged = (userId: string) => announceOperatorChange(broker, userId);
    const state = new StateService(repositories.state, repositories.devices);
    const services: AppServices = {
      auth: new AuthService(repositories.auth, config, logger, operatorChanged),
      users: new UsersService(repositories.auth, operatorChanged),
      devices: new DevicesService(repositories.devices, broker, logger),
      telemetry: new TelemetryService(repositories.telemetry, repositories.devices),
      messages: new MessagesService(repositories.messages),
      state,
      presence,
      alerts,
      fleet: new FleetService(repositories.fleet),
      preferences: new PreferencesService(repositories.preferences),
      notifications: new NotificationsService(repositories.notifications, senders, { dashboardUrl: config.notifications.dashboardUrl }),
      commands: commandsService,
      brokerClients: new BrokerClientsService(repositories.brokerClients, broker),
      dashboards: new DashboardsService(repositories.dashboards, {
        telemetry: repositories.telemetry,
        devices: repositories.devices,
        state,
        alerts,
      }),
    };
    await services.auth.ensureFirstAdmin();
    await alerts.start(events);
    await dispatcher.start(events);
    ingest.onTelemetry((deviceId, readings) => alerts.evaluate(deviceId, readings));
    await presence.start(broker, events);
    // After presence's first heartbeat: another node's sweep keeps only the clients of live nodes.
    await clientRegistry.start(broker);

    const transport = createTransport(broker, { limits: config.broker, counters, logger });
    const mqtt = await startMqttListeners(transport, config);
    started.push({ name: "MQTT listeners", run: () => mqtt.stop() });

    let mqttAccepting = true;
    const app = await buildApp({
      config,
      logger,
      services,
      broker,
      counters,
      gate,
      transport,
      ingest,
      mqttPorts: { mqtt: mqtt.port, mqtts: mqtt.tlsPort },
      metrics: { service: metrics, live: liveStats },
      readiness: {
        database: () => database.ping(),
        broker: () => !broker.closed && mqttAccepting,
        ingestWaitedMs: () => ingest.oldestWaitingMs(),
        ingestStuckAfterMs: config.ingest.stuckAfterMs,
      },
    });
    started.push({ name: "HTTP server", run: () => app.close() });
    metrics.watch(broker.id, {
      counters,
      traffic: () => transport.traffic(),
      ingest: () => ingest.stats(),
      pools: { main: () => poolStats(database.pool), presence: () => poolStats(presencePool), ingest: () => ingest.poolStats() },
      live: liveStats,
      fleet: services.fleet,
      database: () => database.ping(),
    });
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
