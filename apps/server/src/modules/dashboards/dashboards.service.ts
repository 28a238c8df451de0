// The rules of dashboards: who sees, edits and shares them, export and import, and what each
// widget draws (one request per widget, downsampled on the server to the widget's width).
import {
  DASHBOARD_FORMAT,
  DASHBOARD_FORMAT_VERSION,
  MAX_SERIES_POINTS,
  roleAtLeast,
  type CreateDashboard,
  type Dashboard,
  type DashboardDocument,
  type DashboardList,
  type DashboardSummary,
  type Role,
  type TelemetryPoint,
  type UpdateDashboard,
  type Widget,
  type WidgetData,
  type WidgetDataQuery,
  type WidgetSource,
} from "@fleetwatch/contracts";
import { ApiProblem, forbidden } from "../../http/errors.ts";
import type { AlertsService } from "../alerts/alerts.service.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";
import type { StateService } from "../state/state.service.ts";
import type { BucketRow, TelemetryRepository } from "../telemetry/telemetry.repository.ts";
import { alignedSpan, bucketWidthMs, resolveRange, type TimeRange } from "../telemetry/telemetry.service.ts";
import type { DashboardRow, DashboardsRepository } from "./dashboards.repository.ts";

export interface DashboardUser {
  userId: string;
  role: Role;
}

/** A chart gets at most one bucket per this many pixels of its width. */
const PX_PER_POINT = 2;
const DEFAULT_WIDTH_PX = 600;
const STATUS_LIST_LENGTH = 50;
const ALERT_LIST_LENGTH = 20;

const notFound = (id: string) => new ApiProblem(404, `dashboard ${id} does not exist or is not shared with you`);

/** Widget ids name the widgets' cells in the saved layout: each must be unique within its dashboard. */
function checkWidgets(widgets: readonly Widget[]): void {
  const seen = new Set<string>();
  for (const widget of widgets) {
    if (seen.has(widget.id))
      throw new ApiProblem(400, `body/widgets has two widgets with the id "${widget.id}": each id must be unique`, "DUPLICATE_WIDGET");
    seen.add(widget.id);
    if (widget.kind === "gauge" && !(widget.min < widget.max))
      throw new ApiProblem(400, `body/widgets: gauge "${widget.id}" needs min below max`, "BAD_GAUGE");
  }
}

function toSummary(row: DashboardRow, user: DashboardUser): DashboardSummary {
  return {
    id: row.id,
    name: row.name,
    shared: row.shared,
    ownerEmail: row.ownerEmail,
    mine: row.ownerId === user.userId,
    widgetCount: Array.isArray(row.widgets) ? row.widgets.length : 0,
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toDashboard(row: DashboardRow, user: DashboardUser): Dashboard {
  const summary = toSummary(row, user);
  return { ...summary, canEdit: summary.mine, widgets: row.widgets as Widget[], createdAt: row.createdAt.toISOString() };
}

function toPoints(rows: readonly BucketRow[], bucketMs: number): TelemetryPoint[] {
  return rows.map((r) => {
    const start = r.bucket.getTime();
    return {
      time: r.bucket.toISOString(),
      at: new Date(Math.min(Math.max(r.atMs, start), start + bucketMs - 1)).toISOString(),
      min: r.min,
      max: r.max,
      avg: r.avg,
      count: r.count,
    };
  });
}

const sourceLabel = (source: WidgetSource) =>
  source.kind === "device" ? `${source.deviceId} · ${source.metric}` : `${source.aggregate} ${source.metric} · tag ${source.tag}`;

export class DashboardsService {
  constructor(
    private readonly repository: DashboardsRepository,
    private readonly sources: {
      telemetry: Pick<TelemetryRepository, "buckets" | "latest" | "tagLatest" | "tagBuckets">;
      devices: Pick<DevicesRepository, "list">;
      state: Pick<StateService, "stateOf">;
      alerts: Pick<AlertsService, "list">;
    },
  ) {}

  async list(user: DashboardUser): Promise<DashboardList> {
    return { items: (await this.repository.visibleTo(user.userId)).map((row) => toSummary(row, user)) };
  }

  /** The owner's, or a shared one; anything else is "not found", so ids of private dashboards leak nothing. */
  private async visible(user: DashboardUser, id: string): Promise<DashboardRow> {
    const row = await this.repository.find(id);
    if (!row || (row.ownerId !== user.userId && !row.shared)) throw notFound(id);
    return row;
  }

  async get(user: DashboardUser, id: string): Promise<Dashboard> {
    return toDashboard(await this.visible(user, id), user);
  }

  async create(user: DashboardUser, input: CreateDashboard): Promise<Dashboard> {
    const widgets = input.widgets ?? [];
    checkWidgets(widgets);
    return toDashboard(await this.repository.create(user.userId, input.name, widgets), user);
  }

  async update(user: DashboardUser, id: string, changes: UpdateDashboard): Promise<Dashboard> {
    const row = await this.visible(user, id);
    if (row.ownerId !== user.userId)
      throw forbidden("only the owner of a dashboard may change it: export it and import a copy of your own");
    if (changes.shared && !roleAtLeast(user.role, "operator"))
      throw forbidden("only admins and operators may share a dashboard with everyone");
    if (changes.widgets) checkWidgets(changes.widgets);
    const updated = await this.repository.update(id, user.userId, changes);
    if (!updated) throw notFound(id);
    return toDashboard(updated, user);
  }

  async delete(user: DashboardUser, id: string): Promise<void> {
    const row = await this.visible(user, id);
    if (row.ownerId !== user.userId) throw forbidden("only the owner of a dashboard may delete it");
    if (!(await this.repository.delete(id, user.userId))) throw notFound(id);
  }

  async export(user: DashboardUser, id: string): Promise<DashboardDocument> {
    const row = await this.visible(user, id);
    return { format: DASHBOARD_FORMAT, version: DASHBOARD_FORMAT_VERSION, name: row.name, widgets: row.widgets as Widget[] };
  }

  /** A new private dashboard of the user's own from an export file (validated by the route's schema). */
  import(user: DashboardUser, document: DashboardDocument): Promise<Dashboard> {
    return this.create(user, { name: document.name, widgets: document.widgets });
  }

  async widgetData(user: DashboardUser, id: string, widgetId: string, query: WidgetDataQuery): Promise<WidgetData> {
    const range = resolveRange(query);
    const row = await this.visible(user, id);
    const widget = (row.widgets as Widget[]).find((w) => w.id === widgetId);
    if (!widget) throw new ApiProblem(404, `dashboard ${id} has no widget "${widgetId}"`);
    switch (widget.kind) {
      case "timeseries":
        return this.timeseries(widget.sources, range, query.width ?? DEFAULT_WIDTH_PX);
      case "value":
      case "gauge":
        return { kind: widget.kind, ...(await this.latest(widget.source, range)) };
      case "device-status": {
        const [page, online] = await Promise.all([
          this.sources.devices.list({ tag: widget.tag, limit: STATUS_LIST_LENGTH, offset: 0 }),
          this.sources.devices.list({ tag: widget.tag, status: "online", limit: 1, offset: 0 }),
        ]);
        return {
          kind: "device-status",
          total: page.total,
          online: online.total,
          devices: page.items.map((d) => ({ id: d.id, name: d.name, online: d.online, lastSeenAt: d.lastSeenAt?.toISOString() ?? null })),
        };
      }
      case "retained": {
        const state = await this.sources.state.stateOf(widget.deviceId);
        return { kind: "retained", deviceId: state.deviceId, retained: state.retained };
      }
      case "alerts": {
        const alerts = await this.sources.alerts.list({
          state: "open",
          limit: ALERT_LIST_LENGTH,
          ...(widget.deviceId ? { deviceId: widget.deviceId } : {}),
        });
        return { kind: "alerts", alerts: alerts.items };
      }
    }
  }

  private async timeseries(sources: readonly WidgetSource[], range: TimeRange, width: number): Promise<WidgetData> {
    const maxPoints = Math.min(MAX_SERIES_POINTS, Math.max(2, Math.floor(width / PX_PER_POINT)));
    const bucketMs = bucketWidthMs(range, maxPoints);
    const span = alignedSpan(range, bucketMs);
    const from = new Date(span.start);
    const to = new Date(span.end);
    const series = await Promise.all(
      sources.map(async (source) => {
        // Both statements at once: the widget's one request waits for the slower, not the sum.
        const [rows, latest] = await Promise.all([
          source.kind === "device"
            ? this.sources.telemetry.buckets(source.deviceId, source.metric, from, to, bucketMs)
            : this.sources.telemetry.tagBuckets(source.tag, source.metric, from, to, bucketMs),
          // The caption's value is the last raw reading (or the tag's aggregate of its devices'
          // latest readings), never a bucket's mean: a value the device may never have sent.
          this.latest(source, range),
        ]);
        return {
          label: sourceLabel(source),
          draw: source.kind === "tag" ? source.aggregate : ("avg" as const),
          points: toPoints(rows, bucketMs),
          latest: latest.value,
        };
      }),
    );
    return { kind: "timeseries", from: range.from.toISOString(), to: range.to.toISOString(), bucketMs, series };
  }

  private async latest(source: WidgetSource, range: TimeRange): Promise<{ value: number | null; time: string | null; devices: number }> {
    if (source.kind === "device") {
      const reading = await this.sources.telemetry.latest(source.deviceId, source.metric, range.from, range.to);
      return { value: reading?.value ?? null, time: reading?.time.toISOString() ?? null, devices: 1 };
    }
    const result = await this.sources.telemetry.tagLatest(source.tag, source.metric, source.aggregate, range.from, range.to);
    return { value: result.value, time: result.time?.toISOString() ?? null, devices: result.devices };
  }
}
