import { describe, expect, it } from "vitest";
import { parseTelemetry } from "@fleetwatch/contracts";
import { READING_BOUNDS, TelemetryModel, telemetryPayload, type DeviceReadings } from "./telemetry-model.ts";

const START = Date.UTC(2026, 0, 1);

/** `count` samples every `stepMs`. */
function series(model: TelemetryModel, count: number, stepMs: number): DeviceReadings[] {
  return Array.from({ length: count }, (_, i) => model.next(START + (i + 1) * stepMs));
}

describe("telemetry model", () => {
  it("keeps every reading within its physical bounds, over days of samples", () => {
    const outside: string[] = [];
    for (const id of ["dev-a", "dev-b", "dev-c", "dev-d"]) {
      for (const readings of series(new TelemetryModel(id, 7, START), 20_000, 30_000)) {
        for (const [metric, { min, max }] of Object.entries(READING_BOUNDS)) {
          const value = readings[metric as keyof DeviceReadings];
          if (!(value >= min && value <= max)) outside.push(`${id} ${metric}=${value}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it("drains the battery monotonically, and by a plausible amount per hour", () => {
    const samples = series(new TelemetryModel("dev-a", 1, START), 3_600, 1_000);
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.battery).toBeLessThanOrEqual(samples[i - 1]!.battery);
    const drained = samples[0]!.battery - samples.at(-1)!.battery;
    expect(drained).toBeGreaterThan(0.3);
    expect(drained).toBeLessThan(5);
  });

  it("never reports a charge below zero, however long it runs", () => {
    const model = new TelemetryModel("dev-a", 1, START);
    const readings = model.next(START + 365 * 86_400_000);
    expect(readings.battery).toBe(0);
    expect(model.next(START + 366 * 86_400_000).battery).toBe(0);
  });

  it("varies and drifts: temperature moves over an hour instead of repeating one value", () => {
    const temperatures = series(new TelemetryModel("dev-a", 1, START), 360, 10_000).map((r) => r.temperature);
    expect(new Set(temperatures).size).toBeGreaterThan(100);
    const spread = Math.max(...temperatures) - Math.min(...temperatures);
    expect(spread).toBeGreaterThan(0.2);
    // Noise, not jumps: consecutive samples 10 s apart stay close.
    for (let i = 1; i < temperatures.length; i++) expect(Math.abs(temperatures[i]! - temperatures[i - 1]!)).toBeLessThan(2);
  });

  it("is deterministic per seed and device, and differs between devices", () => {
    const a1 = series(new TelemetryModel("dev-a", 42, START), 50, 5_000);
    const a2 = series(new TelemetryModel("dev-a", 42, START), 50, 5_000);
    const b = series(new TelemetryModel("dev-b", 42, START), 50, 5_000);
    const otherSeed = series(new TelemetryModel("dev-a", 43, START), 50, 5_000);
    expect(a2).toEqual(a1);
    expect(b).not.toEqual(a1);
    expect(otherSeed).not.toEqual(a1);
  });

  it("treats a time before the previous sample as no time passing (the battery does not recharge)", () => {
    const model = new TelemetryModel("dev-a", 1, START);
    const later = model.next(START + 3_600_000);
    const earlier = model.next(START + 1_000);
    expect(earlier.battery).toBeLessThanOrEqual(later.battery);
  });

  it("publishes the contracts' telemetry format: four readings at the sample time", () => {
    const readings = new TelemetryModel("dev-a", 1, START).next(START + 1_000);
    const parsed = parseTelemetry(telemetryPayload(readings, START + 1_000), new Date());
    expect(parsed).toEqual({
      ok: true,
      time: new Date(START + 1_000),
      readings: [
        { metric: "temperature", value: readings.temperature },
        { metric: "humidity", value: readings.humidity },
        { metric: "battery", value: readings.battery },
        { metric: "rssi", value: readings.rssi },
      ],
    });
  });
});
