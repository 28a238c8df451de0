// One simulated device: its own MQTT connection with its own credentials, a Last Will that
// marks it offline, a retained state document, telemetry from its seeded model, and answers
// to the commands the platform sends it (reboot, set-interval).
import mqtt, { type MqttClient } from "mqtt";
import { deviceTopic, parseCommandTopic } from "@fleetwatch/contracts";
import type { DeviceCredentials } from "./credentials.ts";
import { TelemetryModel, stateDocument, telemetryPayload } from "./telemetry-model.ts";

export interface DeviceSettings {
  /** mqtt://, mqtts://, ws:// or wss:// */
  brokerUrl: string;
  qos: 0 | 1 | 2;
  /** Telemetry messages per second. */
  rate: number;
  seed: number;
  keepaliveSeconds?: number;
}

export interface FleetCounters {
  connected: number;
  sent: number;
  acked: number;
  errors: number;
  drops: number;
  reconnects: number;
  /** Telemetry not sent because the device was offline or too far behind. */
  skipped: number;
  lastError?: string;
}

export const ONLINE = JSON.stringify({ online: true });
export const OFFLINE = JSON.stringify({ online: false });

/** A device this far behind on acknowledgements skips samples instead of queueing them. */
const MAX_UNACKED = 100;

export class SimulatedDevice {
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly model: TelemetryModel;
  private lastTime = 0;
  private publishedBattery = -1;
  private unacked = 0;
  private online = false;
  private stopped = false;
  /** Set while the device is deliberately away (churn), so the close is not an error. */
  private dropping = false;
  /** Seconds between telemetry messages, when a set-interval command changed the rate. */
  private intervalSeconds: number | undefined;

  constructor(
    readonly credentials: DeviceCredentials,
    private readonly settings: DeviceSettings,
    private readonly counters: FleetCounters,
  ) {
    this.model = new TelemetryModel(credentials.deviceId, settings.seed, Date.now());
  }

  get id(): string {
    return this.credentials.deviceId;
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Connects; resolves on CONNACK, rejects when the connection is refused or fails. */
  connect(): Promise<void> {
    const { deviceId, clientId, username, password } = this.credentials;
    this.dropping = false;
    const client = mqtt.connect(this.settings.brokerUrl, {
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      clean: true,
      keepalive: this.settings.keepaliveSeconds ?? 30,
      // Reconnection is ours: churn decides when a dropped device comes back.
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      queueQoSZero: false,
      // The broker publishes this retained will when the connection ends without DISCONNECT [MQTT-3.1.2-8].
      will: { topic: deviceTopic.status(deviceId), payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    });
    this.client = client;
    return new Promise((resolve, reject) => {
      let settled = false;
      client.once("connect", () => {
        settled = true;
        this.online = true;
        this.counters.connected++;
        this.announce();
        this.startTelemetry();
        client.subscribe(deviceTopic.commands(deviceId, "+"), { qos: 1 });
        resolve();
      });
      client.on("message", (topic, payload) => this.onCommand(topic, payload));
      client.on("error", (error) => {
        this.fail(error);
        if (!settled) {
          settled = true;
          client.end(true);
          reject(error);
        }
      });
      client.once("close", () => {
        const wasOnline = this.online;
        this.goOffline();
        if (!settled) {
          settled = true;
          reject(new Error(`${deviceId}: connection closed before CONNACK`));
        } else if (wasOnline && !this.dropping && !this.stopped) {
          // An unplanned loss (server restart, network): come back, as a real device would.
          this.fail(new Error(`${deviceId}: connection lost`));
          this.reconnectLater(2_000 + Math.random() * 3_000);
        }
      });
    });
  }

  /** Drops off the network without DISCONNECT (the socket is destroyed), so the broker publishes the will. */
  drop(): void {
    if (!this.client || !this.online) return;
    this.dropping = true;
    this.counters.drops++;
    const client = this.client;
    client.stream.destroy();
    client.end(true);
    this.goOffline();
  }

  /** Comes back after `delayMs` (after a drop). */
  reconnectLater(delayMs: number): void {
    setTimeout(() => {
      if (this.stopped || this.online) return;
      this.counters.reconnects++;
      this.connect().catch(() => {
        if (!this.stopped) this.reconnectLater(5_000);
      });
    }, delayMs).unref();
  }

  /** A graceful goodbye: offline status and state, then DISCONNECT (no will is sent then [MQTT-3.14.4-3]). */
  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    const wasOnline = this.online;
    this.goOffline();
    if (!client) return;
    if (wasOnline && client.connected) {
      const id = this.credentials.deviceId;
      await Promise.race([
        Promise.all([
          client.publishAsync(deviceTopic.status(id), OFFLINE, { qos: 1, retain: true }),
          client.publishAsync(deviceTopic.state(id), stateDocument(this.model.battery, false), { qos: 1, retain: true }),
        ]).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 2_000)),
      ]);
    }
    await client.endAsync(!client.connected).catch(() => undefined);
  }

  private announce(): void {
    const id = this.credentials.deviceId;
    this.publish(deviceTopic.status(id), ONLINE, 1, true, false);
    this.publishState();
  }

  private publishState(): void {
    this.publishedBattery = Math.round(this.model.battery);
    this.publish(deviceTopic.state(this.credentials.deviceId), stateDocument(this.model.battery, true), 1, true, false);
  }

  /** Answers a command on its .../response topic, as the platform's convention says (README, "Commands to devices"). */
  private onCommand(topic: string, payload: Buffer): void {
    const command = parseCommandTopic(topic);
    if (!command || command.response || command.deviceId !== this.id) return;
    let answer: Record<string, unknown>;
    try {
      const { name, params } = JSON.parse(payload.toString()) as { name?: unknown; params?: unknown };
      answer = this.runCommand(name, params);
    } catch {
      answer = { ok: false, error: "the command is not JSON" };
    }
    this.client?.publish(deviceTopic.commandResponse(this.id, command.commandId), JSON.stringify(answer), { qos: 1 });
  }

  private runCommand(name: unknown, params: unknown): Record<string, unknown> {
    switch (name) {
      case "reboot":
        // A simulated restart: telemetry starts over after a short pause.
        clearTimeout(this.timer);
        clearInterval(this.timer);
        this.timer = setTimeout(() => this.online && this.startTelemetry(), 1_000);
        return { ok: true, message: "rebooting" };
      case "set-interval": {
        const seconds = (params as { seconds?: unknown } | null)?.seconds;
        if (typeof seconds !== "number" || !(seconds >= 0.1 && seconds <= 3_600))
          return { ok: false, error: 'set-interval needs params {"seconds": 0.1 to 3600}' };
        this.intervalSeconds = seconds;
        clearTimeout(this.timer);
        clearInterval(this.timer);
        this.startTelemetry();
        return { ok: true, intervalSeconds: seconds };
      }
      default:
        return { ok: false, error: `unknown command ${JSON.stringify(name)}; this device knows reboot and set-interval` };
    }
  }

  private startTelemetry(): void {
    const interval = this.intervalSeconds !== undefined ? this.intervalSeconds * 1000 : 1000 / this.settings.rate;
    // A random phase, so that a fleet started at once does not publish in lockstep.
    const first = setTimeout(() => {
      this.sample();
      this.timer = setInterval(() => this.sample(), interval);
    }, Math.random() * interval);
    this.timer = first;
  }

  private sample(): void {
    if (!this.online) return;
    if (this.settings.qos > 0 && this.unacked >= MAX_UNACKED) {
      this.counters.skipped++;
      return;
    }
    // Strictly increasing timestamps: two samples within a millisecond stay two readings.
    this.lastTime = Math.max(Date.now(), this.lastTime + 1);
    const readings = this.model.next(this.lastTime);
    this.publish(
      deviceTopic.telemetry(this.credentials.deviceId),
      telemetryPayload(readings, this.lastTime),
      this.settings.qos,
      false,
      true,
    );
    // The retained state follows the battery when it changes by a whole percent.
    if (Math.round(readings.battery) !== this.publishedBattery) this.publishState();
  }

  private publish(topic: string, payload: string, qos: 0 | 1 | 2, retain: boolean, telemetry: boolean): void {
    const client = this.client;
    if (!client) return;
    if (telemetry) {
      this.counters.sent++;
      if (qos > 0) this.unacked++;
    }
    client.publish(topic, payload, { qos, retain }, (error) => {
      if (telemetry && qos > 0) this.unacked--;
      if (error) {
        // A publish cut off by our own drop is part of the simulation, not an error.
        if (!this.dropping && !this.stopped) this.fail(error);
      } else if (telemetry && qos > 0) {
        this.counters.acked++;
      }
    });
  }

  private goOffline(): void {
    if (this.online) this.counters.connected--;
    this.online = false;
    this.unacked = 0;
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private fail(error: Error): void {
    this.counters.errors++;
    this.counters.lastError = `${this.credentials.deviceId}: ${error.message}`;
  }
}
