// Messages between the load generator's coordinator and its worker processes.
import type { HistogramData } from "./histogram.ts";

export interface WorkerClient {
  deviceId: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Source address (127.x.x.x) so that more than ~28,000 connections fit on one destination. */
  localAddress?: string;
}

export interface WorkerSpec {
  workerIndex: number;
  host: string;
  port: number;
  clients: WorkerClient[];
  qos: 0 | 1;
  keepaliveSeconds: number;
  /** Connection attempts in flight at once, per worker. */
  connectConcurrency: number;
  seed: number;
}

/**
 * max: each client keeps `inflight` QoS 1 messages unacknowledged (closed loop), or at QoS 0
 * `inflight` bursts of messages, each followed by a PINGREQ whose PINGRESP confirms it was read. rate: a fixed number of messages per second per
 * client (open loop). idle: connected, keepalive only.
 */
export type LoadMode = { kind: "max"; inflight: number } | { kind: "rate"; perClientPerSecond: number } | { kind: "idle" };

export interface WorkerReport {
  sent: number;
  /** QoS 1: PUBACKs; QoS 0: messages the broker confirmed reading (PINGRESP after a burst). */
  acked: number;
  errors: number;
  /** Messages a client did not send because too many were unacknowledged (rate mode). */
  skipped: number;
  /** Connections lost while running. */
  disconnects: number;
  connected: number;
  /** PUBLISH → PUBACK round trips (QoS 1). */
  latency: HistogramData;
  firstError?: string;
}

export interface ConnectReport {
  connected: number;
  failed: number;
  connack: HistogramData;
  /** performance.timeOrigin-based wall clock of the last CONNACK, ms since epoch. */
  lastConnackAt: number;
  firstError?: string;
}

export type ToWorker =
  | { type: "init"; requestId: number; spec: WorkerSpec }
  | { type: "connect"; requestId: number }
  | { type: "run"; requestId: number; mode: LoadMode }
  | { type: "window"; requestId: number }
  | { type: "report"; requestId: number }
  | { type: "stop"; requestId: number };

export type FromWorker =
  | { type: "connected"; requestId: number; report: ConnectReport }
  | { type: "ok"; requestId: number }
  | { type: "report"; requestId: number; report: WorkerReport }
  | { type: "fatal"; message: string };
