// Rows of readings(device_id, metric, time, value) as the simulated devices would produce
// them: four metrics per sample from each device's seeded telemetry model.
import { TelemetryModel } from "@fleetwatch/simulator";
import type { CopyValue } from "./copy.ts";

export const METRICS = ["temperature", "humidity", "battery", "rssi"] as const;

/**
 * `samplesPerDevice` samples per device, `stepMs` apart and ending at `endTime`, for
 * `deviceIds`: batches of about `batchRows` rows. Order "device": device by device, each in
 * time order (a device's rows end up together on disk). Order "time": sample by sample
 * across all devices, as a live fleet's rows arrive (a device's rows end up spread over many
 * pages, which is what history queries meet in production).
 */
export function* readingRows(
  deviceIds: string[],
  samplesPerDevice: number,
  stepMs: number,
  endTime: number,
  order: "device" | "time" = "device",
  batchRows = 20_000,
): Generator<CopyValue[][]> {
  const start = endTime - samplesPerDevice * stepMs;
  const models = deviceIds.map((deviceId) => new TelemetryModel(deviceId, 1, start));
  let batch: CopyValue[][] = [];
  const sample = (device: number, i: number) => {
    const time = start + i * stepMs;
    const readings = models[device]!.next(time);
    const ts = new Date(time);
    for (const metric of METRICS) batch.push([deviceIds[device]!, metric, ts, readings[metric]]);
  };
  const outer = order === "device" ? deviceIds.length : samplesPerDevice;
  const inner = order === "device" ? samplesPerDevice : deviceIds.length;
  for (let o = 0; o < outer; o++) {
    for (let n = 0; n < inner; n++) {
      if (order === "device") sample(o, n + 1);
      else sample(n, o + 1);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
