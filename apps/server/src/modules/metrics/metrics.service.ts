// Prometheus metrics for one node (prom-client). Most figures already exist as this node's
// counters (the broker's refusals, ingest's totals, the transport's traffic, the live
// channels): they are read at scrape time, so the hot paths pay nothing for metrics. Only
// what needs a distribution (ingest commit sizes and durations, HTTP request durations) is
// observed as it happens.
//
// Cardinality stays bounded at any fleet size: labels are transports, reasons, QoS levels,
// statuses, pool names and route patterns, never device ids, client ids or topics. Every
// series carries the node's id (`node`), so a Prometheus scraping every node sees the whole
// deployment, and fleet-wide figures (devices, alerts) are the same on every node (use max()).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BrokerCounter, BrokerCounters } from "../../broker/limits.ts";
import type { MqttTraffic } from "../../broker/transport.ts";
import { TRANSPORT_KINDS } from "../../broker/transport.ts";
import type { PoolStats } from "../../db/database.ts";
import type { IngestStatistics } from "../../ingest/ingest.ts";
import type { LiveStats } from "../../live/live-connection.ts";
import type { FleetSummary } from "@fleetwatch/contracts";
import type { FleetService } from "../fleet/fleet.service.ts";

/** Why a CONNECT was refused (label values), from the broker's counters. */
const REFUSAL_REASONS: Record<string, BrokerCounter> = {
  bad_client_id: "connect_refused_identifier",
  bad_credentials: "connect_refused_credentials",
  not_authorized: "connect_refused_not_authorized",
  keepalive_too_long: "connect_refused_keepalive",
  bad_will: "connect_refused_will",
  throttled: "connect_throttled",
  connect_timeout: "connect_timeout",
  over_connection_limit: "connections_over_limit",
};

const QOS_LEVELS = ["0", "1", "2"] as const;

/** Where the figures read at scrape time come from; each is set once its part has started. */
export interface MetricsSources {
  counters: BrokerCounters;
  traffic(): MqttTraffic;
  ingest(): IngestStatistics;
  /** Each database pool of this node by name (main, presence, ingest, …). */
  pools: Record<string, () => PoolStats>;
  live: LiveStats;
  fleet: Pick<FleetService, "summary">;
  database(): Promise<boolean>;
}

export class MetricsService {
  /**
   * The node's registry. Other modules add their own metrics here, e.g. notification
   * deliveries (issue 14): `new Counter({ name: "fleetwatch_notification_deliveries_total",
   * help: "…", labelNames: ["outcome"], registers: [metrics.registry] })`.
   */
  readonly registry = new Registry();
  #sources: MetricsSources | undefined;
  readonly #batchSize: Histogram;
  readonly #commitSeconds: Histogram;
  readonly #httpSeconds: Histogram<"method" | "route" | "status_code">;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges *_total, which Prometheus reserves for counters (promtool
    // check metrics rejects them); their per-type gauges (nodejs_active_handles, …) sum to the same.
    for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
      this.registry.removeSingleMetric(name);
    }
    const sources = () => this.#sources;

    this.#batchSize = new Histogram({
      name: "fleetwatch_ingest_batch_size",
      help: "Messages (and QoS 2 releases) per ingest commit",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    });
    this.#commitSeconds = new Histogram({
      name: "fleetwatch_ingest_commit_seconds",
      help: "Time to commit one ingest batch to PostgreSQL, failed attempts included",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#httpSeconds = new Histogram({
      name: "fleetwatch_http_request_duration_seconds",
      help: "HTTP request durations by method, route pattern and status code (unmatched: no route)",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    new Gauge({
      name: "fleetwatch_mqtt_connected_clients",
      help: "MQTT clients connected to this node now (CONNECT accepted), by transport",
      labelNames: ["transport"],
      registers,
      collect() {
        const traffic = sources()?.traffic();
        for (const kind of TRANSPORT_KINDS) this.set({ transport: kind }, traffic?.connected[kind] ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_mqtt_connections_total",
      help: "MQTT connections whose CONNECT this node accepted, by transport",
      labelNames: ["transport"],
      registers,
      collect() {
        const traffic = sources()?.traffic();
        this.reset();
        for (const kind of TRANSPORT_KINDS) this.inc({ transport: kind }, traffic?.accepted[kind] ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_mqtt_connect_refused_total",
      help: "MQTT connections this node refused or closed before CONNACK, by reason",
      labelNames: ["reason"],
      registers,
      collect() {
        const counters = sources()?.counters;
        this.reset();
        for (const [reason, counter] of Object.entries(REFUSAL_REASONS)) this.inc({ reason }, counters?.get(counter) ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_mqtt_messages_received_total",
      help: "PUBLISH packets this node accepted from MQTT clients, by QoS",
      labelNames: ["qos"],
      registers,
      collect() {
        const received = sources()?.traffic().received;
        this.reset();
        for (const qos of QOS_LEVELS) this.inc({ qos }, received?.[Number(qos)] ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_mqtt_messages_sent_total",
      help: "PUBLISH packets this node sent to MQTT clients (subscribers), by the QoS they were sent with",
      labelNames: ["qos"],
      registers,
      collect() {
        const sent = sources()?.traffic().sent;
        this.reset();
        for (const qos of QOS_LEVELS) this.inc({ qos }, sent?.[Number(qos)] ?? 0);
      },
    });

    const ingest = () => sources()?.ingest();
    new Counter({
      name: "fleetwatch_ingest_messages_total",
      help: "Device messages this node committed to PostgreSQL, by the QoS they were published with",
      labelNames: ["qos"],
      registers,
      collect() {
        const stats = ingest();
        this.reset();
        this.inc({ qos: "0" }, stats?.storedQos0 ?? 0);
        this.inc({ qos: "1" }, stats?.storedQos1 ?? 0);
        this.inc({ qos: "2" }, stats?.storedQos2 ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_ingest_qos0_dropped_total",
      help: "QoS 0 messages (and wills) dropped because the ingest buffer was full (database slow or down) or the server was stopping",
      registers,
      collect() {
        this.reset();
        this.inc(ingest()?.qos0Dropped ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_ingest_commit_failures_total",
      help: "Ingest batches that could not be committed because the database was unreachable or failing (retried)",
      registers,
      collect() {
        this.reset();
        this.inc(ingest()?.failedBatches ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_ingest_rejected_total",
      help: "Messages PostgreSQL refused for themselves (QoS 1/2: refused to their sender; QoS 0: dropped)",
      registers,
      collect() {
        this.reset();
        this.inc(Object.values(ingest()?.rejected ?? {}).reduce((sum, count) => sum + count, 0));
      },
    });

    new Gauge({
      name: "fleetwatch_live_connections",
      help: "Dashboard live channels (WebSocket) open on this node",
      registers,
      collect() {
        this.set(sources()?.live.open ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_live_dropped_total",
      help: "Messages and events the live channels dropped from full subscription queues (the browser is told how many)",
      registers,
      collect() {
        this.reset();
        this.inc(sources()?.live.droppedMessages ?? 0);
      },
    });
    new Counter({
      name: "fleetwatch_live_connections_reset_total",
      help: "Live channels dropped because the browser stopped reading (LIVE_MAX_BUFFERED_BYTES)",
      registers,
      collect() {
        this.reset();
        this.inc(sources()?.live.droppedConnections ?? 0);
      },
    });

    const poolGauge = (name: string, help: string, field: keyof PoolStats) =>
      new Gauge({
        name,
        help,
        labelNames: ["pool"],
        registers,
        collect() {
          for (const [pool, stats] of Object.entries(sources()?.pools ?? {})) this.set({ pool }, stats()[field]);
        },
      });
    poolGauge("fleetwatch_db_pool_connections", "PostgreSQL connections open in this node's pool", "total");
    poolGauge("fleetwatch_db_pool_idle_connections", "Idle PostgreSQL connections in this node's pool", "idle");
    poolGauge("fleetwatch_db_pool_waiting_requests", "Requests waiting for a PostgreSQL connection from this node's pool", "waiting");

    // One database check and one summary query per scrape, shared by the gauges below (the
    // registry collects them concurrently, so they share the read in flight). During an outage
    // the fleet gauges keep their last values and fleetwatch_database_up says 0.
    let reading: Promise<{ up: boolean; summary?: FleetSummary }> | undefined;
    const readFleet = () =>
      (reading ??= (async () => {
        const source = sources();
        if (!source) return { up: false };
        if (!(await source.database())) return { up: false };
        return { up: true, summary: await source.fleet.summary().catch(() => undefined) };
      })().finally(() => (reading = undefined)));
    new Gauge({
      name: "fleetwatch_database_up",
      help: "1 when PostgreSQL answered this scrape's check, else 0",
      registers,
      async collect() {
        this.set((await readFleet()).up ? 1 : 0);
      },
    });
    new Gauge({
      name: "fleetwatch_devices",
      help: "Registered devices by status (fleet-wide, the same on every node)",
      labelNames: ["status"],
      registers,
      async collect() {
        const { summary } = await readFleet();
        if (!summary) return;
        this.set({ status: "online" }, summary.devices.online);
        this.set({ status: "offline" }, summary.devices.offline);
        this.set({ status: "never_seen" }, summary.devices.neverSeen);
      },
    });
    new Gauge({
      name: "fleetwatch_alerts_active",
      help: "Unresolved alerts by state, active or acknowledged (fleet-wide, the same on every node)",
      labelNames: ["state"],
      registers,
      async collect() {
        const { summary } = await readFleet();
        if (!summary) return;
        this.set({ state: "active" }, summary.alerts.active);
        this.set({ state: "acknowledged" }, summary.alerts.acknowledged);
      },
    });
  }

  /** Called once the node's parts have started; until then the read-at-scrape figures are 0. */
  watch(nodeId: string, sources: MetricsSources): void {
    this.registry.setDefaultLabels({ node: nodeId });
    this.#sources = sources;
  }

  /** For the ingest writer (WriterOptions.onCommit). */
  readonly observeCommit = (messages: number, seconds: number, committed: boolean): void => {
    this.#batchSize.observe(messages);
    this.#commitSeconds.observe({ outcome: committed ? "committed" : "failed" }, seconds);
  };

  observeHttp(method: string, route: string | undefined, statusCode: number, seconds: number): void {
    this.#httpSeconds.observe({ method, route: route ?? "unmatched", status_code: String(statusCode) }, seconds);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
