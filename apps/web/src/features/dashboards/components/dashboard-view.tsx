// One dashboard: its widgets on a 12-column grid (dragged by their title bar and resized from
// the corner, the layout saved when a move ends), one time-range picker for all of them, live
// updates, sharing, export, and the widget form. Narrow screens stack the widgets in one column.
import { useCallback, useEffect, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import ReactGridLayout, { useContainerWidth, type Layout } from "react-grid-layout";
import "react-grid-layout/css/styles.css";
import { GRID_COLUMNS, type Dashboard, type Widget } from "@fleetwatch/contracts";
import { ActionError, LoadError, Loading } from "../../../components/query-state.tsx";
import { TimeRangePicker } from "../../../components/time-range-picker.tsx";
import { useCan } from "../../../lib/auth/permissions.ts";
import { useLiveEvents, useLiveMessages } from "../../../lib/live/use-live.ts";
import { describeError } from "../../../lib/api-client.ts";
import { LAST_HOUR, type TimeRange } from "../../../lib/time-range.ts";
import { exportDashboard, useDashboard, useDeleteDashboard, useUpdateDashboard, useWidgetData, widgetDataKey } from "../api/dashboards.ts";
import { followsEvents, liveFilters, newWidgetId, nextLayout } from "../lib/widgets.ts";
import { WidgetBody } from "./widget-view.tsx";
import { WidgetForm } from "./widget-form.tsx";
import "../dashboards.css";

const ROW_HEIGHT = 60;
const MARGIN = 12;
/** Below this width the grid's columns would be too narrow to read: one column, in layout order. */
const STACK_BELOW_PX = 720;

/** Refetches a widget when a message arrives on `filter`, at most twice a second. */
function LiveMessages({ filter, onChange }: { filter: string; onChange: () => void }) {
  useLiveMessages(filter, onChange);
  return null;
}

function useSpaced(action: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(action);
  useEffect(() => {
    latest.current = action;
  });
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  }, [ms]);
}

function WidgetCard({
  dashboard,
  widget,
  range,
  height,
  editing,
  onEdit,
  onRemove,
}: {
  dashboard: Dashboard;
  widget: Widget;
  range: TimeRange;
  height: number;
  editing: boolean;
  onEdit: () => void;
  onRemove: () => void;
}) {
  const [ref, setRef] = useState<HTMLDivElement | null>(null);
  // Unknown until measured, and no request before: a guessed width would be fetched, then
  // fetched again at the measured one (two requests a widget on every load of a dashboard).
  // A ResizeObserver reports an element's size once when it starts observing, in the frame
  // of its first layout, so the first request waits no longer than that.
  const [width, setWidth] = useState<number | null>(null);
  useEffect(() => {
    if (!ref) return;
    const observer = new ResizeObserver(([entry]) => entry && setWidth(entry.contentRect.width));
    observer.observe(ref);
    return () => observer.disconnect();
  }, [ref]);
  const { data, error, refetch } = useWidgetData(dashboard.id, widget, range, width);
  const queryClient = useQueryClient();
  const refresh = useSpaced(() => void queryClient.invalidateQueries({ queryKey: widgetDataKey(dashboard.id, widget.id) }), 500);
  useLiveEvents((events) => {
    if (followsEvents(widget) && events.some((e) => e.kind === "presence" || e.kind.startsWith("alert."))) refresh();
  });
  return (
    <section className="card widget" aria-label={widget.title} data-widget-kind={widget.kind}>
      {liveFilters(widget).map((filter) => (
        <LiveMessages key={filter} filter={filter} onChange={refresh} />
      ))}
      <header className="widget__header">
        <h2 className="widget__title widget__drag">{widget.title}</h2>
        {editing ? (
          <div className="widget__actions">
            <button type="button" className="button button--small" onClick={onEdit}>
              Edit
            </button>
            <button type="button" className="button button--small" onClick={onRemove} aria-label={`Remove ${widget.title}`}>
              Remove
            </button>
          </div>
        ) : null}
      </header>
      <div className="widget__body" ref={setRef} data-loaded={data ? "true" : "false"}>
        {error && !data ? (
          <LoadError what={widget.title} error={error} retry={() => void refetch()} />
        ) : data ? (
          <WidgetBody widget={widget} data={data} height={Math.max(80, height)} />
        ) : (
          <Loading />
        )}
      </div>
    </section>
  );
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

export function DashboardView({ id }: { id: string }) {
  const { data: dashboard, error, refetch } = useDashboard(id);
  const update = useUpdateDashboard(id);
  const remove = useDeleteDashboard();
  const navigate = useNavigate();
  const canShare = useCan("share-dashboards");
  const [range, setRange] = useState<TimeRange>(LAST_HOUR);
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState<{ widget?: Widget } | null>(null);
  const [name, setName] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  // Stacked until measured: a guessed width wider than the screen would lay the grid out too wide first.
  const { width, containerRef, mounted } = useContainerWidth({ initialWidth: 0 });

  if (error && !dashboard) return <LoadError what="this dashboard" error={error} retry={() => void refetch()} />;
  if (!dashboard) return <Loading label="Loading the dashboard…" />;

  const widgets = dashboard.widgets;
  const save = (next: Widget[]) => update.mutate({ widgets: next });
  const saveLayout = (layout: Layout) => {
    const cells = new Map(layout.map((item) => [item.i, item]));
    const next = widgets.map((w) => {
      const cell = cells.get(w.id);
      return cell ? { ...w, layout: { x: cell.x, y: cell.y, w: cell.w, h: cell.h } } : w;
    });
    if (JSON.stringify(next) !== JSON.stringify(widgets)) save(next);
  };
  const stacked = width < STACK_BELOW_PX;
  const ordered = [...widgets].sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x);
  const card = (widget: Widget) => (
    <WidgetCard
      dashboard={dashboard}
      widget={widget}
      range={range}
      height={stacked ? widget.layout.h * ROW_HEIGHT : widget.layout.h * ROW_HEIGHT + (widget.layout.h - 1) * MARGIN - 70}
      editing={editing}
      onEdit={() => setForm({ widget })}
      onRemove={() => save(widgets.filter((w) => w.id !== widget.id))}
    />
  );

  return (
    <>
      <title>{`${dashboard.name} · Dashboards · Fleetwatch`}</title>
      <div className="dashboard-header">
        {name !== null ? (
          <form
            className="dashboard-header__rename"
            onSubmit={(event) => {
              event.preventDefault();
              update.mutate({ name: name.trim() }, { onSuccess: () => setName(null) });
            }}
          >
            <label className="field">
              <span className="field__label">Name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
            </label>
            <button type="submit" className="button button--primary">
              Rename
            </button>
            <button type="button" className="button" onClick={() => setName(null)}>
              Cancel
            </button>
          </form>
        ) : (
          <h1 className="page-title">{dashboard.name}</h1>
        )}
        <p className="muted dashboard-header__meta">
          {dashboard.mine ? "Yours" : `By ${dashboard.ownerEmail}`} · {dashboard.shared ? "shared with everyone" : "private"}
        </p>
        <div className="dashboard-header__actions">
          {dashboard.canEdit ? (
            <button
              type="button"
              className={`button ${editing ? "button--primary" : ""}`}
              aria-pressed={editing}
              onClick={() => setEditing(!editing)}
            >
              {editing ? "Done editing" : "Edit"}
            </button>
          ) : null}
          <button
            type="button"
            className="button"
            onClick={() => {
              setExportError(null);
              exportDashboard(dashboard.id).then(
                (document) =>
                  download(
                    `${dashboard.name.replace(/[^A-Za-z0-9_-]+/g, "-") || "dashboard"}.dashboard.json`,
                    JSON.stringify(document, null, 2),
                  ),
                (failure: unknown) => setExportError(describeError(failure)),
              );
            }}
          >
            Export JSON
          </button>
        </div>
      </div>
      {exportError ? (
        <p className="notice notice--error" role="alert">
          The export failed: {exportError}
        </p>
      ) : null}
      {editing ? (
        <div className="dashboard-edit">
          <button type="button" className="button button--primary" onClick={() => setForm({})}>
            Add a widget
          </button>
          <button type="button" className="button" onClick={() => setName(dashboard.name)}>
            Rename
          </button>
          {canShare ? (
            <label className="dashboard-edit__share">
              <input type="checkbox" checked={dashboard.shared} onChange={(e) => update.mutate({ shared: e.target.checked })} />
              Share with everyone (read-only)
            </label>
          ) : null}
          <button
            type="button"
            className="button button--danger"
            onClick={() => {
              if (window.confirm(`Delete the dashboard “${dashboard.name}”?`))
                remove.mutate(dashboard.id, { onSuccess: () => void navigate("/dashboards") });
            }}
          >
            Delete dashboard
          </button>
          {stacked ? null : <span className="muted">Drag a widget by its title; resize it from its corner.</span>}
        </div>
      ) : null}
      {update.error ? <ActionError error={update.error} /> : null}
      {form ? (
        <WidgetForm
          key={form.widget?.id ?? "new"}
          {...(form.widget ? { initial: form.widget } : {})}
          id={form.widget?.id ?? newWidgetId(widgets)}
          layout={form.widget?.layout ?? nextLayout(widgets, "timeseries")}
          onCancel={() => setForm(null)}
          onSave={(widget) =>
            update.mutate(
              {
                widgets: form.widget
                  ? widgets.map((w) => (w.id === widget.id ? widget : w))
                  : [...widgets, { ...widget, layout: nextLayout(widgets, widget.kind) }],
              },
              { onSuccess: () => setForm(null) },
            )
          }
        />
      ) : null}
      <TimeRangePicker value={range} onChange={setRange} />
      <div ref={containerRef} className="dashboard-grid">
        {widgets.length === 0 ? (
          <p className="muted">
            {dashboard.canEdit ? "No widgets yet: choose Edit, then Add a widget." : "This dashboard has no widgets yet."}
          </p>
        ) : !mounted ? null : stacked ? (
          <div className="dashboard-stack">
            {ordered.map((widget) => (
              <div key={widget.id}>{card(widget)}</div>
            ))}
          </div>
        ) : (
          <ReactGridLayout
            width={width}
            layout={widgets.map((w) => ({ i: w.id, ...w.layout }))}
            gridConfig={{ cols: GRID_COLUMNS, rowHeight: ROW_HEIGHT, margin: [MARGIN, MARGIN] }}
            dragConfig={{ enabled: editing, handle: ".widget__drag" }}
            resizeConfig={{ enabled: editing }}
            onDragStop={(layout) => saveLayout(layout)}
            onResizeStop={(layout) => saveLayout(layout)}
          >
            {widgets.map((widget) => (
              <div key={widget.id}>{card(widget)}</div>
            ))}
          </ReactGridLayout>
        )}
      </div>
    </>
  );
}
