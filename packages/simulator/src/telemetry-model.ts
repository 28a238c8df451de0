// The simulated sensors of one device: temperature, humidity, battery and radio signal.
// Each value is a mean-reverting random walk (an Ornstein-Uhlenbeck process) around a mean
// that itself drifts slowly, plus measurement noise; the battery only ever drains. The model
// is driven by the timestamps it is given, so a seeded device replays exactly.
import { createRandom, hashSeed, type Random } from "./random.ts";

export interface DeviceReadings {
  /** °C */
  temperature: number;
  /** % relative humidity */
  humidity: number;
  /** % charge, never increasing */
  battery: number;
  /** dBm */
  rssi: number;
}

/** The physical range of each simulated sensor; every reading stays inside it. */
export const READING_BOUNDS: Record<keyof DeviceReadings, { min: number; max: number }> = {
  temperature: { min: -40, max: 85 },
  humidity: { min: 0, max: 100 },
  battery: { min: 0, max: 100 },
  rssi: { min: -120, max: -30 },
};

interface Walk {
  value: number;
  /** Where the walk is pulled back to; moves by `drift` per hour. */
  mean: number;
  drift: number;
  /** Pull strength per second. */
  reversion: number;
  /** Random-walk volatility per √second. */
  volatility: number;
  /** Measurement noise added to each reported value. */
  noise: number;
}

const clamp = (value: number, { min, max }: { min: number; max: number }) => Math.min(max, Math.max(min, value));
const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

export class TelemetryModel {
  private readonly random: Random;
  private readonly temperature: Walk;
  private readonly humidity: Walk;
  private readonly rssi: Walk;
  /** % per hour */
  private readonly drainPerHour: number;
  private batteryLevel: number;
  private lastTime: number;
  private readonly startTime: number;

  constructor(deviceId: string, seed: number, startTime: number) {
    this.random = createRandom(hashSeed(seed, deviceId));
    const r = this.random;
    const temperatureMean = r.between(17, 27);
    this.temperature = {
      value: temperatureMean,
      mean: temperatureMean,
      drift: r.between(-0.3, 0.3),
      reversion: 0.01,
      volatility: 0.05,
      noise: 0.08,
    };
    const humidityMean = r.between(30, 65);
    this.humidity = { value: humidityMean, mean: humidityMean, drift: r.between(-0.5, 0.5), reversion: 0.01, volatility: 0.15, noise: 0.3 };
    const rssiMean = r.between(-95, -55);
    this.rssi = { value: rssiMean, mean: rssiMean, drift: 0, reversion: 0.05, volatility: 0.8, noise: 1.5 };
    this.batteryLevel = r.between(55, 100);
    this.drainPerHour = r.between(0.5, 3);
    this.startTime = startTime;
    this.lastTime = startTime;
  }

  get battery(): number {
    return round(this.batteryLevel, 2);
  }

  /** The readings at `time` (epoch ms). Times before the previous call count as no time passing. */
  next(time: number): DeviceReadings {
    const seconds = Math.max(0, (time - this.lastTime) / 1000);
    this.lastTime = Math.max(this.lastTime, time);
    const hours = (this.lastTime - this.startTime) / 3_600_000;

    const temperature = this.step(this.temperature, seconds, hours, READING_BOUNDS.temperature);
    const humidity = this.step(this.humidity, seconds, hours, READING_BOUNDS.humidity);
    const rssi = this.step(this.rssi, seconds, hours, READING_BOUNDS.rssi);
    // Radios draw more when the signal is weak: drain a little faster below -90 dBm.
    const load = rssi < -90 ? 1.3 : 1;
    this.batteryLevel = Math.max(0, this.batteryLevel - (this.drainPerHour * load * seconds) / 3600);

    return {
      temperature: round(temperature, 2),
      humidity: round(humidity, 1),
      battery: this.battery,
      rssi: Math.round(rssi),
    };
  }

  private step(walk: Walk, seconds: number, hours: number, bounds: { min: number; max: number }): number {
    const mean = clamp(walk.mean + walk.drift * hours, bounds);
    // Exact OU transition for a step of `seconds`, so that the statistics do not depend on the rate.
    const decay = Math.exp(-walk.reversion * seconds);
    const spread = walk.volatility * Math.sqrt((1 - decay * decay) / (2 * walk.reversion));
    walk.value = clamp(mean + (walk.value - mean) * decay + spread * this.random.gaussian(), bounds);
    return clamp(walk.value + walk.noise * this.random.gaussian(), bounds);
  }
}

/** The telemetry JSON a device publishes (see @fleetwatch/contracts payloads.ts). */
export function telemetryPayload(readings: DeviceReadings, time: number): string {
  return JSON.stringify({ ...readings, ts: time });
}

export const FIRMWARE_VERSION = "1.4.2";

/** The retained state document on devices/{id}/state. */
export function stateDocument(battery: number, online: boolean): string {
  return JSON.stringify({ firmware: FIRMWARE_VERSION, model: "fw-sim-1", battery: Math.round(battery), online });
}
