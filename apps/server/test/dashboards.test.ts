// Dashboards of one's own: private to the owner until an admin or operator shares them, saved
// and read whole, exported and imported as JSON (any bad file gets a 400 that says why), and
// each widget's data in one request, checked against known readings. Over HTTP against a real
// server and PostgreSQL; a second node of the same deployment sees the same dashboards.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import mqtt from "mqtt";
import type { Dashboard, DashboardDocument, DashboardList, Widget, WidgetData } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { call, login } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { adminQuery } from "../../../test/support/postgres.ts";

let server: TestServer;
type Session = Awaited<ReturnType<typeof login>>;
let admin: Session;
let viewer: Session;
let operator: Session;

const request = <T = any>(session: Session | null, method: string, path: string, body?: unknown, raw?: string) =>
  call<T>(server.httpUrl, method, path, {
    ...(body !== undefined ? { body } : {}),
    ...(raw !== undefined ? { raw, headers: { "content-type": "application/json" } } : {}),
    ...(session
      ? {
          headers: {
            cookie: session.cookie,
            "x-csrf-token": session.csrfToken,
            ...(raw !== undefined ? { "content-type": "application/json" } : {}),
          },
        }
      : {}),
  });

const layout = (x: number, y: number) => ({ x, y, w: 4, h: 3 });
const widgets: Widget[] = [
  {
    id: "temps",
    title: "Temperatures",
    kind: "timeseries",
    layout: layout(0, 0),
    sources: [
      { kind: "device", deviceId: "dash-a", metric: "temp" },
      { kind: "tag", tag: "lab", metric: "temp", aggregate: "max" },
    ],
  },
  {
    id: "latest",
    title: "Latest A",
    kind: "value",
    layout: layout(4, 0),
    source: { kind: "device", deviceId: "dash-a", metric: "temp" },
    unit: "°C",
    thresholds: { direction: "above", warning: 30 },
  },
  {
    id: "lab-min",
    title: "Coldest in lab",
    kind: "gauge",
    layout: layout(8, 0),
    min: 0,
    max: 50,
    source: { kind: "tag", tag: "lab", metric: "temp", aggregate: "min" },
  },
  { id: "status", title: "Lab devices", kind: "device-status", layout: layout(0, 3), tag: "lab" },
  { id: "state", title: "A's state", kind: "retained", layout: layout(4, 3), deviceId: "dash-a" },
  { id: "alerts", title: "Alerts", kind: "alerts", layout: layout(8, 3) },
];

beforeAll(async () => {
  server = await startTestServer();
  admin = await login(server.httpUrl);
  for (const [email, role] of [
    ["viewer@test.local", "viewer"],
    ["operator@test.local", "operator"],
  ] as const) {
    const created = await call(server.httpUrl, "POST", "/api/users", {
      body: { email, password: `${role}-password`, role },
      headers: { cookie: admin.cookie, "x-csrf-token": admin.csrfToken },
    });
    expect(created.status).toBe(201);
  }
  viewer = await login(server.httpUrl, "viewer@test.local", "viewer-password");
  operator = await login(server.httpUrl, "operator@test.local", "operator-password");
});
afterAll(() => server.close());

describe("/api/dashboards", () => {
  it("keeps a dashboard private to its owner until an admin or operator shares it, and only the owner edits it", async () => {
    const created = await request<Dashboard>(viewer, "POST", "/api/dashboards", { name: "Mine" });
    expect(created).toMatchObject({ status: 201, body: { name: "Mine", shared: false, mine: true, canEdit: true, widgets: [] } });
    const id = created.body.id;

    expect((await request(admin, "GET", `/api/dashboards/${id}`)).status).toBe(404);
    expect((await request<DashboardList>(admin, "GET", "/api/dashboards")).body.items.map((d) => d.id)).not.toContain(id);
    // A viewer may keep dashboards, but not share them.
    expect(await request(viewer, "PATCH", `/api/dashboards/${id}`, { shared: true })).toMatchObject({ status: 403 });

    const ops = await request<Dashboard>(operator, "POST", "/api/dashboards", { name: "Ops wall" });
    const shared = await request<Dashboard>(operator, "PATCH", `/api/dashboards/${ops.body.id}`, { shared: true });
    expect(shared).toMatchObject({ status: 200, body: { shared: true } });
    const seen = await request<Dashboard>(viewer, "GET", `/api/dashboards/${ops.body.id}`);
    expect(seen).toMatchObject({ status: 200, body: { name: "Ops wall", mine: false, canEdit: false, ownerEmail: "operator@test.local" } });
    expect(await request(viewer, "PATCH", `/api/dashboards/${ops.body.id}`, { name: "Hijacked" })).toMatchObject({ status: 403 });
    expect(await request(viewer, "DELETE", `/api/dashboards/${ops.body.id}`)).toMatchObject({ status: 403 });
    expect((await request<Dashboard>(admin, "GET", `/api/dashboards/${ops.body.id}`)).body.name).toBe("Ops wall");

    expect((await request(viewer, "DELETE", `/api/dashboards/${id}`)).status).toBe(204);
    expect((await request(viewer, "GET", `/api/dashboards/${id}`)).status).toBe(404);
    expect((await call(server.httpUrl, "GET", "/api/dashboards")).status).toBe(401);
  });

  it("saves widgets and layout whole, and refuses two widgets with one id", async () => {
    const { body } = await request<Dashboard>(admin, "POST", "/api/dashboards", { name: "Layout" });
    const saved = await request<Dashboard>(admin, "PATCH", `/api/dashboards/${body.id}`, { widgets });
    expect(saved.status).toBe(200);
    expect((await request<Dashboard>(admin, "GET", `/api/dashboards/${body.id}`)).body.widgets).toEqual(widgets);
    const twice = await request(admin, "PATCH", `/api/dashboards/${body.id}`, { widgets: [widgets[0], widgets[0]] });
    expect(twice).toMatchObject({ status: 400, body: { code: "DUPLICATE_WIDGET" } });
    expect((await request<Dashboard>(admin, "GET", `/api/dashboards/${body.id}`)).body.widgets).toEqual(widgets);
  });

  it("answers each widget's data from known readings: device series, tag aggregates, latest values, status, retained state and alerts", async () => {
    const sql = (text: string, params: unknown[] = []) => adminQuery(server.database.url, text, params);
    await registerDevice(server.database.url, "dash-a");
    await sql("INSERT INTO devices (id, name, tags, updated_at) VALUES ('dash-b', 'B', '{lab}', now()), ('dash-c', 'C', '{lab}', now())");
    await sql("UPDATE devices SET tags = '{lab}' WHERE id = 'dash-a'");
    const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000; // the start of the previous whole hour
    const reading = (device: string, minute: number, value: number) =>
      sql("INSERT INTO readings (device_id, metric, time, value) VALUES ($1, 'temp', $2, $3)", [
        device,
        new Date(base + minute * 60_000),
        value,
      ]);
    await reading("dash-a", 5, 20);
    await reading("dash-a", 35, 24);
    await reading("dash-b", 10, 31);
    await reading("dash-c", 40, 12);
    await reading("dash-c", 50, 14);
    const device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("dash-a"));
    await device.publishAsync("devices/dash-a/state", JSON.stringify({ mode: "auto" }), { qos: 1, retain: true });
    await device.endAsync();
    await sql(
      "INSERT INTO alerts (device_id, kind, rule_key, severity, message) VALUES ('dash-b', 'threshold', 'rule:9', 'warning', 'too warm')",
    );

    const { body } = await request<Dashboard>(admin, "POST", "/api/dashboards", { name: "Data", widgets });
    const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 3_600_000).toISOString()}`;
    const data = async (widgetId: string, extra = "") => {
      const reply = await request<WidgetData>(admin, "GET", `/api/dashboards/${body.id}/widgets/${widgetId}/data?${range}${extra}`);
      expect(reply.status).toBe(200);
      return reply.body;
    };

    // 120 px wide: at most 60 buckets over the hour, so whole minutes; 8 px: 4 buckets, so 15 minutes.
    const fine = await data("temps", "&width=120");
    expect(fine).toMatchObject({ kind: "timeseries", bucketMs: 60_000 });
    const coarse = await data("temps", "&width=8");
    if (coarse.kind !== "timeseries") throw new Error("not a series");
    expect(coarse.bucketMs).toBe(15 * 60_000);
    const [deviceSeries, tagSeries] = coarse.series;
    expect(deviceSeries).toMatchObject({ label: "dash-a · temp", draw: "avg" });
    expect(deviceSeries?.points.map((p) => [Date.parse(p.time) - base, p.avg, p.count])).toEqual([
      [0, 20, 1],
      [30 * 60_000, 24, 1],
    ]);
    // The caption's latest is the last reading, not the last bucket's value: for the lab's max,
    // the highest of each device's last reading (a 24, b 31, c 14), where the last bucket says 14.
    expect(deviceSeries?.latest).toBe(24);
    expect(tagSeries).toMatchObject({ draw: "max", latest: 31 });
    expect(tagSeries?.points.map((p) => [Date.parse(p.time) - base, p.min, p.max, p.count])).toEqual([
      [0, 20, 31, 2],
      [30 * 60_000, 12, 24, 2],
      [45 * 60_000, 14, 14, 1],
    ]);

    expect(await data("latest")).toEqual({ kind: "value", value: 24, time: new Date(base + 35 * 60_000).toISOString(), devices: 1 });
    // The coldest latest reading in the lab: a 24, b 31, c 14.
    expect(await data("lab-min")).toMatchObject({ kind: "gauge", value: 14, devices: 3 });
    expect(await data("status")).toMatchObject({
      kind: "device-status",
      total: 3,
      devices: [{ id: "dash-a" }, { id: "dash-b" }, { id: "dash-c" }],
    });
    expect(await data("state")).toMatchObject({ kind: "retained", retained: [{ subtopic: "state", payload: { mode: "auto" } }] });
    expect(await data("alerts")).toMatchObject({ kind: "alerts", alerts: [{ deviceId: "dash-b", message: "too warm" }] });
    expect((await request(admin, "GET", `/api/dashboards/${body.id}/widgets/nope/data`)).status).toBe(404);
    // Another user's private dashboard's widgets are as absent as the dashboard.
    expect((await request(viewer, "GET", `/api/dashboards/${body.id}/widgets/latest/data`)).status).toBe(404);
  });

  it("exports a dashboard as a file that imports as a new dashboard of the importer's own", async () => {
    const { body } = await request<Dashboard>(operator, "POST", "/api/dashboards", { name: "Exported wall", widgets });
    await request(operator, "PATCH", `/api/dashboards/${body.id}`, { shared: true });
    const exported = await request<DashboardDocument>(viewer, "GET", `/api/dashboards/${body.id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-disposition")).toBe('attachment; filename="Exported-wall.dashboard.json"');
    expect(exported.body).toEqual({ format: "fleetwatch-dashboard", version: 1, name: "Exported wall", widgets });
    const imported = await request<Dashboard>(viewer, "POST", "/api/dashboards/import", exported.body);
    expect(imported).toMatchObject({ status: 201, body: { name: "Exported wall", widgets, mine: true, shared: false } });
    expect(imported.body.id).not.toBe(body.id);
  });

  it("answers any bad import with a 400 that says why, and stores nothing", async () => {
    const before = (await request<DashboardList>(admin, "GET", "/api/dashboards")).body.items.length;
    const valid: DashboardDocument = { format: "fleetwatch-dashboard", version: 1, name: "Good", widgets };
    const broken = fc.oneof(
      fc.string().map((raw) => ({ raw })),
      fc
        .jsonValue()
        .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
        .map((body) => ({ body })),
      fc
        .record({ key: fc.constantFrom("format", "version", "name", "widgets"), value: fc.jsonValue() })
        .filter(({ key, value }) => JSON.stringify(value) !== JSON.stringify(valid[key]))
        .map(({ key, value }) => ({ body: { ...valid, [key]: value } })),
      fc
        .record({
          index: fc.nat(widgets.length - 1),
          key: fc.constantFrom("kind", "layout", "id", "title", "source", "sources", "tag", "deviceId", "min"),
          value: fc.jsonValue(),
        })
        .map(({ index, key, value }) => ({
          body: { ...valid, widgets: widgets.map((w, i) => (i === index ? { ...w, [key]: value } : w)) },
        })),
    );
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(broken, async (input) => {
        const reply =
          "raw" in input
            ? await request(admin, "POST", "/api/dashboards/import", undefined, input.raw)
            : await request(admin, "POST", "/api/dashboards/import", input.body);
        expect([201, 400]).toContain(reply.status);
        if (reply.status === 400) {
          refused++;
          expect(reply.body.message).toEqual(expect.any(String));
          expect(reply.body.message.length).toBeGreaterThan(0);
        } else {
          // Some mutations still make a valid document (a widget's field replaced by one it accepts): kept, and drawable.
          await request(admin, "DELETE", `/api/dashboards/${reply.body.id}`);
        }
      }),
      { numRuns: 150 },
    );
    expect(refused).toBeGreaterThan(100);
    expect((await request<DashboardList>(admin, "GET", "/api/dashboards")).body.items.length).toBe(before);
    const notJson = await request(admin, "POST", "/api/dashboards/import", undefined, '{"format": "fleetwatch-dashboard",');
    expect(notJson).toMatchObject({ status: 400 });
  });

  it("is one deployment: a dashboard saved on one node is read, drawn and shared on another", async () => {
    const nodeB = await startTestServer({}, { database: server.database });
    try {
      const { body } = await request<Dashboard>(operator, "POST", "/api/dashboards", { name: "Two nodes", widgets });
      const onB = await call<Dashboard>(nodeB.httpUrl, "GET", `/api/dashboards/${body.id}`, { headers: { cookie: operator.cookie } });
      expect(onB).toMatchObject({ status: 200, body: { name: "Two nodes", widgets } });
      const data = await call<WidgetData>(nodeB.httpUrl, "GET", `/api/dashboards/${body.id}/widgets/status/data`, {
        headers: { cookie: operator.cookie },
      });
      expect(data).toMatchObject({ status: 200, body: { kind: "device-status" } });
    } finally {
      await nodeB.close();
    }
  });
});
