// Durable ingest: every accepted PUBLISH under devices/{id}/... is stored in PostgreSQL, and
// the numeric fields of telemetry documents become readings.
//
// The broker calls storeBeforeAck from authorizePublish, which aedes runs before it sends
// PUBACK (QoS 1) or PUBREC (QoS 2) and before it forwards the message (lib/handlers/
// publish.js: authorizePublish, then enqueuePublish). So for QoS 1 and 2 the promise
// resolves only once the message's rows are committed, and the ack means "stored". When it
// rejects, aedes passes the error to the client's packet loop, which destroys the connection
// (lib/client.js: nextBatch(err) -> _onError): no ack is sent, the message is not forwarded,
// and the device keeps it and sends it again when it reconnects [MQTT-4.4.0-1]. A message the
// database rejects for itself (see writer.ts) is refused the same way, with its reason
// (PublishRefused), so that it can never hold up another device's messages.
import { createHash } from "node:crypto";
import { openPool, poolStats, type PoolStats } from "../db/database.ts";
import type { Client, PublishPacket } from "aedes";
import { parseDeviceTopic, parseTelemetry, type BadTelemetryReason, type Reading } from "@fleetwatch/contracts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { IngestRow } from "./ingest.repository.ts";
import { CONCURRENT_COMMITS, IngestRefusedError, IngestWriter, type IngestStats, type WriterOptions } from "./writer.ts";
import { PublishRefused } from "../broker/hooks.ts";
import { messagePropertiesOf, storedProperties } from "../lib/message-properties.ts";
import { maintainPartitions, schedulePartitionMaintenance, type MaintenanceResult } from "./partitions.ts";

export interface IngestStatistics extends IngestStats {
  /** Telemetry messages stored raw without readings, by reason. */
  badPayloads: Record<BadTelemetryReason, number>;
  /** Telemetry fields skipped because their key cannot be a metric name (U+0000, a lone surrogate); their messages are stored. */
  unstorableMetricNames: number;
}

export interface Ingest {
  /** Stores the publish (QoS 1/2: resolves once committed; QoS 0: buffers and resolves at once). Rejects only when a QoS 1/2 message could not be stored. */
  storeBeforeAck(client: Client | null, packet: PublishPacket): Promise<void>;
  /** A QoS 2 flow completed with PUBREL: resolves once its key is removed; rejects if it could not be. */
  releaseQos2(client: Client, messageId: number): Promise<void>;
  /** A clean session discards the client's QoS 2 keys (queued; never waits, never throws). */
  discardQos2(client: Client): void;
  /**
   * Calls `listener` with the readings of every telemetry message stored from now on (QoS 1/2
   * once committed, QoS 0 once buffered), parsed once here: alert rules read them.
   */
  onTelemetry(listener: TelemetryListener): void;
  stats(): IngestStatistics;
  /** Its own connection pool's counts (metrics). */
  poolStats(): PoolStats;
  /** How long the oldest message not yet stored (or refused) has waited, in ms; 0 when none waits. For /readyz. */
  oldestWaitingMs(): number;
  /** Creates upcoming day partitions and drops expired ones (also runs hourly). */
  maintainPartitions(now?: number): Promise<MaintenanceResult>;
  /** Flushes buffered messages and waits for commits in flight, then closes its connections. */
  close(): Promise<void>;
}

export type TelemetryListener = (deviceId: string, readings: readonly Reading[]) => void;

const MAINTENANCE_INTERVAL_MS = 3_600_000;

/** Identifies a QoS 2 message's content, to tell its retransmission from a new message with a reused packet id. */
function digest(topic: string, payload: Buffer): Buffer {
  return createHash("sha256").update(topic).update("\u0000").update(payload).digest();
}

export async function startIngest(
  databaseUrl: string,
  config: Pick<Config, "ingest" | "retentionDays">,
  logger: Logger,
  observers: Pick<WriterOptions, "onCommit"> = {},
): Promise<Ingest> {
  const log = logger.child({ component: "ingest" });
  // Its own small pool: a connection for each batch the writer commits at once and one for
  // partition maintenance, an API burst on the shared pool can never delay
  // acknowledgements, and the connect timeout bounds how long a device waits for an ack
  // while the database is unreachable.
  const pool = openPool(databaseUrl, log, {
    max: CONCURRENT_COMMITS + 1,
    name: "ingest",
    connectionTimeoutMillis: config.ingest.commitTimeoutMs,
    keepAlive: true,
  });
  const writer = new IngestWriter(pool, { ...config.ingest, ...observers }, log);
  const badPayloads: Record<BadTelemetryReason, number> = {
    "not-json": 0,
    "not-an-object": 0,
    "bad-timestamp": 0,
    "no-numeric-fields": 0,
    "unstorable-metric-names": 0,
  };
  let unstorableMetricNames = 0;
  const telemetryListeners: TelemetryListener[] = [];
  const stored = (row: IngestRow) => {
    if (row.readings.length === 0) return;
    for (const listener of telemetryListeners) {
      // The message is stored: nothing a listener does may fail its publish.
      try {
        listener(row.deviceId, row.readings);
      } catch (error) {
        log.warn({ err: error, deviceId: row.deviceId }, "a telemetry listener failed");
      }
    }
  };

  const maintain = async (now?: number) => {
    const result = await maintainPartitions(pool, config.retentionDays, now);
    if (result.created.length || result.dropped.length || result.expiredDefaultRows || result.expiredRollupRows)
      log.info(result, "telemetry partitions maintained");
    return result;
  };
  const runMaintenance = () =>
    maintain().catch((error: unknown) => log.warn({ err: error }, "partition maintenance failed; retrying in an hour"));
  // Before the broker accepts anything, so today's partitions exist. A failure is not fatal:
  // the DEFAULT partitions take every row meanwhile.
  await runMaintenance();
  const maintenance = schedulePartitionMaintenance(runMaintenance, MAINTENANCE_INTERVAL_MS);

  function toRow(client: Client | null, packet: PublishPacket): IngestRow | null {
    const topic = parseDeviceTopic(packet.topic);
    if (!topic) return null;
    const receivedAt = new Date();
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : Buffer.from(packet.payload);
    let readings: IngestRow["readings"] = [];
    if (topic.channel === "telemetry") {
      const parsed = parseTelemetry(payload, receivedAt);
      if (parsed.ok) {
        readings = parsed.readings.map((r) => ({ metric: r.metric, value: r.value, time: parsed.time }));
        unstorableMetricNames += parsed.unstorableNames ?? 0;
      } else badPayloads[parsed.reason]++;
    }
    const clientId = client?.id ?? (packet as { clientId?: string }).clientId;
    const qos = packet.qos;
    return {
      receivedAt,
      deviceId: topic.deviceId,
      topic: packet.topic,
      payload,
      qos,
      retain: packet.retain,
      // Parsed here, in the batch's row: the properties travel in the batch's one INSERT.
      properties: storedProperties(messagePropertiesOf(packet.properties)),
      readings,
      ...(qos === 2 && clientId && packet.messageId !== undefined
        ? { qos2: { clientId, packetId: packet.messageId, digest: digest(packet.topic, payload) } }
        : {}),
    };
  }

  return {
    async storeBeforeAck(client, packet) {
      const row = toRow(client, packet);
      if (!row) return;
      // A Last Will reaches authorizePublish as the bare will object (no `cmd`, no packet id):
      // nobody acknowledges it, so it must not wait for, or fail with, the database.
      if (packet.qos === 0 || packet.cmd !== "publish" || packet.messageId === undefined) {
        writer.buffer(row);
        stored(row);
        return;
      }
      try {
        await writer.write(row);
      } catch (error) {
        // The message itself can never be stored: refuse it to its sender alone.
        if (error instanceof IngestRefusedError) throw new PublishRefused("implementation-specific-error", error.message);
        throw error;
      }
      stored(row);
    },
    releaseQos2: (client, messageId) => writer.release({ clientId: client.id, packetId: messageId }),
    discardQos2(client) {
      // A key that outlives its session is harmless but for one case (an identical message
      // reusing the packet id), so a failure here is only worth a debug line.
      writer
        .release({ clientId: client.id, packetId: null })
        .catch((error: unknown) =>
          log.debug({ clientId: client.id, err: (error as Error).message }, "could not discard a clean session's QoS 2 keys"),
        );
    },
    onTelemetry: (listener) => void telemetryListeners.push(listener),
    stats: () => ({ ...writer.stats(), badPayloads: { ...badPayloads }, unstorableMetricNames }),
    poolStats: () => poolStats(pool),
    oldestWaitingMs: () => writer.oldestWaitingMs(),
    maintainPartitions: maintain,
    async close() {
      await maintenance.stop();
      await writer.close();
      await pool.end();
    },
  };
}
