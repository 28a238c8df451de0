// Rows of readings(device_id, metric, time, value) as the simulated devices would produce
// them: four metrics per sample from each device's seeded telemetry model.
import { TelemetryModel } from "@fleetwatch/simulator";
import type { CopyValue } from "./copy.ts";

export const METRICS = ["temperature", "humidity", "battery", "rssi"] as const;

/**
 * `samplesPerDevice` samples per device, `stepMs` apart and ending at `endTime`, for
 * `deviceIds`: batches of about `batchRows` rows, device by device in time order.
 */
export function* readingRows(deviceIds: string[], samplesPerDevice: number, stepMs: number, endTime: number, batchRows = 20_000): Generator<CopyValue[][]> {
  const start = endTime - samplesPerDevice * stepMs;
  let batch: CopyValue[][] = [];
  for (const deviceId of deviceIds) {
    const model = new TelemetryModel(deviceId, 1, start);
    for (let i = 1; i <= samplesPerDevice; i++) {
      const time = start + i * stepMs;
      const readings = model.next(time);
      const ts = new Date(time);
      for (const metric of METRICS) batch.push([deviceId, metric, ts, readings[metric]]);
      if (batch.length >= batchRows) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
