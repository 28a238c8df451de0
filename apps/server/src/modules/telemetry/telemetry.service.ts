// The rules of telemetry history: time ranges and their defaults, bucket widths, and the
// mapping of rows to the API's contract types.
import {
  DEFAULT_HISTORY_WINDOW_MS,
  DEFAULT_SERIES_POINTS,
  type DeviceMetrics,
  type TelemetryQuery,
  type TelemetrySeries,
} from "@fleetwatch/contracts";
import { ApiProblem } from "../../http/errors.ts";
import type { TelemetryRepository } from "./telemetry.repository.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";

export interface TimeRange {
  from: Date;
  to: Date;
}

/** `from` and `to` as given, or the last day up to `to` (default now). Rejects from > to. */
export function resolveRange(query: { from?: string; to?: string }, now = Date.now()): TimeRange {
  const to = query.to ? new Date(query.to) : new Date(now);
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_HISTORY_WINDOW_MS);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new ApiProblem(400, "from and to must be ISO-8601 date-times");
  if (from > to) throw new ApiProblem(400, `from (${from.toISOString()}) is after to (${to.toISOString()})`);
  return { from, to };
}

/**
 * The narrowest whole-millisecond bucket width that splits the range into at most
 * `maxPoints` buckets (buckets start at `from`).
 */
export function bucketWidthMs(range: TimeRange, maxPoints: number): number {
  return Math.max(1, Math.ceil((range.to.getTime() - range.from.getTime()) / maxPoints));
}

export class TelemetryService {
  constructor(
    private readonly repository: TelemetryRepository,
    private readonly devices: Pick<DevicesRepository, "exists">,
  ) {}

  private async requireDevice(id: string): Promise<void> {
    if (!(await this.devices.exists(id))) throw new ApiProblem(404, `device ${id} does not exist`);
  }

  async metrics(deviceId: string): Promise<DeviceMetrics> {
    await this.requireDevice(deviceId);
    const latest = await this.repository.latestReadings(deviceId);
    return {
      deviceId,
      metrics: latest.map((r) => ({ metric: r.metric, lastValue: r.value, lastTime: r.time.toISOString() })),
    };
  }

  async series(deviceId: string, query: TelemetryQuery): Promise<TelemetrySeries> {
    const range = resolveRange(query);
    await this.requireDevice(deviceId);
    const bucketMs = bucketWidthMs(range, query.maxPoints ?? DEFAULT_SERIES_POINTS);
    const rows = await this.repository.buckets(deviceId, query.metric, range.from, range.to, bucketMs);
    return {
      deviceId,
      metric: query.metric,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      bucketMs,
      points: rows.map((r) => ({ time: r.bucket.toISOString(), min: r.min, max: r.max, avg: r.avg, count: r.count })),
    };
  }

  /** CSV lines (header first) of the raw readings in the range, streamed. Validates before the first line. */
  async csv(deviceId: string, query: TelemetryQuery): Promise<AsyncGenerator<string>> {
    const range = resolveRange(query);
    await this.requireDevice(deviceId);
    const chunks = this.repository.streamReadings(deviceId, query.metric, range.from, range.to);
    const metric = csvField(query.metric);
    return (async function* () {
      yield "time,metric,value\n";
      for await (const rows of chunks) {
        yield rows.map((r) => `${r.time.toISOString()},${metric},${r.value}\n`).join("");
      }
    })();
  }
}

/** RFC 4180 quoting, and a leading quote mark for cells a spreadsheet would run as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
