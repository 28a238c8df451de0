// A fleet of simulated devices: connects them (a bounded number at a time, so that starting
// a large fleet is not a connection storm unless asked for), drives churn, and stops them.
import type { DeviceCredentials } from "./credentials.ts";
import { SimulatedDevice, type DeviceSettings, type FleetCounters } from "./device.ts";
import { createRandom, hashSeed } from "./random.ts";

export interface FleetSettings extends DeviceSettings {
  /** Fraction of the fleet dropping off per minute, 0..1. */
  churn: number;
  /** How long a dropped device stays away, in ms (default 5 to 20 s). */
  offlineMs?: { min: number; max: number };
  /** Connection attempts in flight at once (default 50). */
  connectConcurrency?: number;
}

export class Fleet {
  readonly counters: FleetCounters = { connected: 0, sent: 0, acked: 0, errors: 0, drops: 0, reconnects: 0, skipped: 0 };
  readonly devices: SimulatedDevice[];
  private churnTimer: NodeJS.Timeout | undefined;
  private readonly random;

  constructor(
    credentials: DeviceCredentials[],
    private readonly settings: FleetSettings,
  ) {
    this.devices = credentials.map((entry) => new SimulatedDevice(entry, settings, this.counters));
    this.random = createRandom(hashSeed(settings.seed, "churn"));
  }

  /** Connects every device; a device that cannot connect is counted as an error and retried later. */
  async start(): Promise<void> {
    const queue = [...this.devices];
    const connectOne = async () => {
      for (let device = queue.shift(); device; device = queue.shift()) {
        await device.connect().catch(() => device.reconnectLater(5_000));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.connectConcurrency ?? 50, queue.length) }, connectOne));
    if (this.settings.churn > 0) this.churnTimer = setInterval(() => this.churn(), 1_000);
  }

  /** Drops one device without DISCONNECT; it comes back after `offlineMs` (never, with Infinity). */
  drop(deviceId: string, offlineMs = this.offlineTime()): void {
    const device = this.devices.find((d) => d.id === deviceId);
    if (!device) throw new Error(`no simulated device ${deviceId}`);
    device.drop();
    if (Number.isFinite(offlineMs)) device.reconnectLater(offlineMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.churnTimer);
    await Promise.all(this.devices.map((device) => device.stop()));
  }

  private churn(): void {
    // Each online device leaves with probability churn/60 per second: `churn` of the fleet per minute.
    const probability = this.settings.churn / 60;
    for (const device of this.devices) {
      if (device.isOnline && this.random.next() < probability) this.drop(device.id);
    }
  }

  private offlineTime(): number {
    const { min, max } = this.settings.offlineMs ?? { min: 5_000, max: 20_000 };
    return this.random.between(min, max);
  }
}
