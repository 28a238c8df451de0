// Telemetry history, presence history and the message log over HTTP, on known data written
// straight into the database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { DeviceMetrics, MessageList, PresenceHistory, TelemetrySeries } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { registerDevice } from "../../../test/support/devices.ts";
import { apiToken } from "../../../test/support/api.ts";

let server: TestServer;
/** History is for signed-in operators: these tests read as the test admin, with an API token. */
let token: string;
const HOUR = Date.parse("2026-01-10T00:00:00.000Z");

beforeAll(async () => {
  server = await startTestServer();
  token = await apiToken(server.httpUrl);
  await registerDevice(server.database.url, "sensor");
  await registerDevice(server.database.url, "empty");
  // One hour at 1 Hz: temp = i at HOUR + i seconds.
  await sql(
    `INSERT INTO readings (device_id, metric, time, value)
     SELECT 'sensor', 'temp', $1::timestamptz + make_interval(secs => i), i FROM generate_series(0, 3599) AS i`,
    [new Date(HOUR)],
  );
  await sql(
    `INSERT INTO readings (device_id, metric, time, value) VALUES ('sensor', 'env.humidity', $1, 40), ('sensor', 'env.humidity', $2, 41)`,
    [new Date(HOUR), new Date(HOUR + 7_200_000)],
  );
});
afterAll(() => server.close());

const sql = (text: string, params: unknown[] = []) => adminQuery(server.database.url, text, params);
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${server.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
const iso = (ms: number) => new Date(ms).toISOString();
const seriesUrl = (device: string, params: Record<string, string | number>) =>
  `/api/devices/${device}/telemetry?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;

describe("GET /api/devices/:id/metrics", () => {
  it("lists each metric with its latest value and time", async () => {
    const response = await get("/api/devices/sensor/metrics");
    expect(response.status).toBe(200);
    expect((await response.json()) as DeviceMetrics).toEqual({
      deviceId: "sensor",
      metrics: [
        { metric: "env.humidity", lastValue: 41, lastTime: iso(HOUR + 7_200_000) },
        { metric: "temp", lastValue: 3599, lastTime: iso(HOUR + 3_599_000) },
      ],
    });
  });

  it("lists nothing for a device without readings, and 404 for an unknown device", async () => {
    expect(await (await get("/api/devices/empty/metrics")).json()).toEqual({ deviceId: "empty", metrics: [] });
    const unknown = await get("/api/devices/nobody/metrics");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ statusCode: 404, error: "Not Found", message: "device nobody does not exist" });
  });
});

describe("GET /api/devices/:id/telemetry", () => {
  it("downsamples into buckets with correct min, max, avg and count", async () => {
    const response = await get(seriesUrl("sensor", { metric: "temp", from: iso(HOUR), to: iso(HOUR + 3_600_000), maxPoints: 60 }));
    expect(response.status).toBe(200);
    const series = (await response.json()) as TelemetrySeries;
    expect(series.bucketMs).toBe(60_000);
    expect(series.points).toHaveLength(60);
    series.points.forEach((point, minute) => {
      expect(point).toEqual({
        time: iso(HOUR + minute * 60_000),
        // The mean time of readings at +0 … +59 s: half a minute in, rounded down to the ms.
        at: iso(HOUR + minute * 60_000 + 29_500),
        min: minute * 60,
        max: minute * 60 + 59,
        avg: minute * 60 + 29.5,
        count: 60,
      });
    });
  });

  it("never returns more than maxPoints buckets, and counts every reading once", async () => {
    for (const maxPoints of [1, 7, 500, 10_000]) {
      const series = (await (
        await get(seriesUrl("sensor", { metric: "temp", from: iso(HOUR), to: iso(HOUR + 3_600_000), maxPoints }))
      ).json()) as TelemetrySeries;
      expect(series.points.length).toBeLessThanOrEqual(maxPoints);
      expect(series.points.reduce((sum, p) => sum + p.count, 0)).toBe(3600);
      expect(Math.min(...series.points.map((p) => p.min))).toBe(0);
      expect(Math.max(...series.points.map((p) => p.max))).toBe(3599);
    }
  });

  it("summarises a month of per-minute data into at most maxPoints points", async () => {
    await registerDevice(server.database.url, "monthly");
    const start = Date.parse("2025-12-01T00:00:00.000Z");
    await sql(
      `INSERT INTO readings (device_id, metric, time, value)
       SELECT 'monthly', 'v', $1::timestamptz + make_interval(mins => i), i % 100 FROM generate_series(0, 30 * 1440 - 1) AS i`,
      [new Date(start)],
    );
    const series = (await (
      await get(seriesUrl("monthly", { metric: "v", from: iso(start), to: iso(start + 30 * 86_400_000), maxPoints: 500 }))
    ).json()) as TelemetrySeries;
    // 30 days in at most 500 buckets: 86.4 min each at least, so 2 hours.
    expect(series.bucketMs).toBe(7_200_000);
    expect(series.points).toHaveLength(360);
    expect(series.points.reduce((sum, p) => sum + p.count, 0)).toBe(30 * 1440);
  });

  it("averages values near the float limit without overflowing", async () => {
    await registerDevice(server.database.url, "extreme");
    await sql(
      `INSERT INTO readings (device_id, metric, time, value) VALUES ('extreme', 'x', $1, 1.7e308), ('extreme', 'x', $2, 1.7e308), ('extreme', 'x', $3, -1e308)`,
      [new Date(HOUR), new Date(HOUR + 1000), new Date(HOUR + 2000)],
    );
    const response = await get(seriesUrl("extreme", { metric: "x", from: iso(HOUR), to: iso(HOUR + 60_000), maxPoints: 1 }));
    expect(response.status).toBe(200);
    const [point] = ((await response.json()) as TelemetrySeries).points;
    expect(point).toMatchObject({ min: -1e308, max: 1.7e308, count: 3 });
    expect(point!.avg).toBeCloseTo(8e307, -300);
  });

  it("defaults to the last day and 500 points", async () => {
    await registerDevice(server.database.url, "recent");
    await sql(
      `INSERT INTO readings (device_id, metric, time, value) VALUES ('recent', 'x', now() - interval '1 hour', 5), ('recent', 'x', now() - interval '2 days', 9)`,
    );
    const series = (await (await get("/api/devices/recent/telemetry?metric=x")).json()) as TelemetrySeries;
    expect(Date.parse(series.to) - Date.parse(series.from)).toBe(86_400_000);
    expect(series.points.map((p) => p.avg)).toEqual([5]);
    // A day in at most 500 buckets: 172.8 s each at least, so 3 minutes (481 aligned buckets).
    expect(series.bucketMs).toBe(180_000);
  });

  it("answers 400 for bad parameters and 404 for an unknown device", async () => {
    const bad = [
      seriesUrl("sensor", { metric: "temp", from: iso(HOUR + 1000), to: iso(HOUR) }),
      seriesUrl("sensor", { metric: "temp", maxPoints: 0 }),
      seriesUrl("sensor", { metric: "temp", maxPoints: 10_001 }),
      seriesUrl("sensor", { metric: "temp", maxPoints: "many" }),
      seriesUrl("sensor", { metric: "temp", from: "yesterday" }),
      "/api/devices/sensor/telemetry",
    ];
    for (const url of bad) {
      const response = await get(url);
      expect([url, response.status]).toEqual([url, 400]);
      expect(await response.json()).toMatchObject({ statusCode: 400, error: "Bad Request", message: expect.any(String) });
    }
    expect((await get(seriesUrl("nobody", { metric: "temp" }))).status).toBe(404);
  });
});

describe("aligned buckets", () => {
  const MINUTE = 60_000;
  const series = async (params: Record<string, string | number>) => {
    const response = await get(seriesUrl("sensor", { metric: "temp", ...params }));
    expect(response.status).toBe(200);
    return (await response.json()) as TelemetrySeries;
  };

  it("start at multiples of the bucket width from the Unix epoch, not at `from`, and say so", async () => {
    // 30 min 6 s from an odd start: 1-minute buckets (30-second ones would be 62 > 60).
    const from = HOUR + 7_123;
    const result = await series({ from: iso(from), to: iso(from + 30 * MINUTE + 6_000), maxPoints: 60 });
    expect(result.bucketMs).toBe(MINUTE);
    expect(result.bucketOrigin).toBe("1970-01-01T00:00:00.000Z");
    expect(result.from).toBe(iso(from));
    expect(result.points).toHaveLength(31);
    for (const point of result.points) {
      expect(Date.parse(point.time) % result.bucketMs).toBe(0);
      // Drawn inside its bucket.
      expect(Date.parse(point.at)).toBeGreaterThanOrEqual(Date.parse(point.time));
      expect(Date.parse(point.at)).toBeLessThan(Date.parse(point.time) + result.bucketMs);
    }
    // The buckets at both ends are whole: every reading of them counts, even those outside [from, to).
    expect(result.points[0]).toMatchObject({ time: iso(HOUR), min: 0, max: 59, count: 60 });
    expect(result.points.at(-1)).toMatchObject({ time: iso(HOUR + 30 * MINUTE), min: 1800, max: 1859, count: 60 });
  });

  it("keep their values as the range moves with the clock, as a reload of the last hour does", async () => {
    const span = 40 * MINUTE;
    const first = await series({ from: iso(HOUR + 1_000), to: iso(HOUR + 1_000 + span), maxPoints: 300 });
    const later = await series({ from: iso(HOUR + 83_777), to: iso(HOUR + 83_777 + span), maxPoints: 300 });
    expect(later.bucketMs).toBe(first.bucketMs);
    const byTime = new Map(first.points.map((point) => [point.time, point]));
    const shared = later.points.filter((point) => byTime.has(point.time));
    expect(shared.length).toBeGreaterThan(later.points.length - 10);
    for (const point of shared) expect(point).toEqual(byTime.get(point.time));
  });

  it("draw a lone reading at its own time", async () => {
    const result = (await (
      await get(seriesUrl("sensor", { metric: "env.humidity", from: iso(HOUR + 3_600_000), to: iso(HOUR + 7_300_000) }))
    ).json()) as TelemetrySeries;
    expect(result.points).toEqual([expect.objectContaining({ at: iso(HOUR + 7_200_000), avg: 41, count: 1 })]);
  });

  it("use a width that reads as a whole unit: 15 s for the last hour in 300 points, 1 h for the last week", async () => {
    expect((await series({ from: iso(HOUR), to: iso(HOUR + 3_600_000), maxPoints: 300 })).bucketMs).toBe(15_000);
    expect((await series({ from: iso(HOUR - 7 * 86_400_000), to: iso(HOUR), maxPoints: 300 })).bucketMs).toBe(3_600_000);
  });
});

describe("CSV export", () => {
  const range = { metric: "temp", from: iso(HOUR), to: iso(HOUR + 3_600_000) };

  it("streams the raw readings as CSV for Accept: text/csv", async () => {
    const response = await get(seriesUrl("sensor", range), { accept: "text/csv" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("time,metric,value");
    expect(lines).toHaveLength(3601);
    expect(lines[1]).toBe(`${iso(HOUR)},temp,0`);
    expect(lines[3600]).toBe(`${iso(HOUR + 3_599_000)},temp,3599`);
  });

  it("serves the same at the .csv route, across many cursor fetches", async () => {
    const start = Date.parse("2025-12-01T00:00:00.000Z");
    const response = await get(`/api/devices/monthly/telemetry.csv?metric=v&from=${iso(start)}&to=${iso(start + 30 * 86_400_000)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="monthly-v.csv"');
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines).toHaveLength(30 * 1440 + 1);
    const times = lines.slice(1).map((line) => Date.parse(line.split(",")[0]!));
    expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
  });

  it("quotes metric names that CSV or a spreadsheet would misread", async () => {
    await sql(`INSERT INTO readings (device_id, metric, time, value) VALUES ('sensor', '=cmd,"x"', $1, 1)`, [new Date(HOUR)]);
    const text = await (
      await get(`/api/devices/sensor/telemetry.csv?metric=${encodeURIComponent('=cmd,"x"')}&from=${iso(HOUR)}&to=${iso(HOUR + 1000)}`)
    ).text();
    expect(text).toBe(`time,metric,value\n${iso(HOUR)},"'=cmd,""x""",1\n`);
  });

  it("exports several metrics in one file, long: one row per reading in time order", async () => {
    const url = `/api/devices/sensor/telemetry.csv?metric=env.humidity&metric=temp&from=${iso(HOUR)}&to=${iso(HOUR + 7_200_001)}`;
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="sensor-telemetry.csv"');
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("time,metric,value");
    expect(lines).toHaveLength(1 + 3600 + 2);
    // Readings at the same time follow the order the metrics were asked in.
    expect(lines.slice(1, 4)).toEqual([`${iso(HOUR)},env.humidity,40`, `${iso(HOUR)},temp,0`, `${iso(HOUR + 1000)},temp,1`]);
    expect(lines.at(-1)).toBe(`${iso(HOUR + 7_200_000)},env.humidity,41`);
  });

  it("exports several metrics in one file, wide: one row per time, a column per metric", async () => {
    const url = `/api/devices/sensor/telemetry.csv?metric=temp&metric=env.humidity&layout=wide&from=${iso(HOUR)}&to=${iso(HOUR + 7_200_001)}`;
    const response = await get(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="sensor-telemetry-wide.csv"');
    const lines = (await response.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("time,temp,env.humidity");
    expect(lines).toHaveLength(1 + 3600 + 1);
    expect(lines.slice(1, 3)).toEqual([`${iso(HOUR)},0,40`, `${iso(HOUR + 1000)},1,`]);
    expect(lines.at(-1)).toBe(`${iso(HOUR + 7_200_000)},,41`);
  });

  it("answers 400 for an export of no metric, too many metrics or an unknown layout", async () => {
    const many = Array.from({ length: 51 }, (_, i) => `metric=m${i}`).join("&");
    for (const query of ["", many, "metric=temp&layout=tall"]) {
      const response = await get(`/api/devices/sensor/telemetry.csv?${query}`);
      expect([query.slice(0, 30), response.status]).toEqual([query.slice(0, 30), 400]);
      expect(await response.json()).toMatchObject({ statusCode: 400, message: expect.any(String) });
    }
  });

  it("answers 400 and 404 before streaming anything", async () => {
    expect((await get(seriesUrl("sensor", { ...range, from: range.to, to: range.from }), { accept: "text/csv" })).status).toBe(400);
    expect((await get(`/api/devices/nobody/telemetry.csv?metric=temp`)).status).toBe(404);
  });
});

describe("GET /api/messages", () => {
  const at = Date.parse("2026-01-11T00:00:00.000Z");
  beforeAll(async () => {
    const rows: [number, string, string, Buffer, number, boolean][] = [
      [0, "a", "devices/a/telemetry", Buffer.from('{"t":1}'), 1, false],
      [1, "a", "devices/a/state", Buffer.from("on"), 1, true],
      [2, "b", "devices/b/telemetry", Buffer.from([0xff, 0x00, 0xfe]), 0, false],
      [3, "b", "devices/b/logs/boot", Buffer.from("boot"), 2, false],
      [4, "c", "devices/c%_x/telemetry", Buffer.from("odd"), 1, false],
    ];
    for (const [offset, device, topic, payload, qos, retain] of rows) {
      await sql(`INSERT INTO messages (received_at, device_id, topic, payload, qos, retain) VALUES ($1, $2, $3, $4, $5, $6)`, [
        new Date(at + offset * 1000),
        device,
        topic,
        payload,
        qos,
        retain,
      ]);
    }
  });
  const search = async (topic: string, extra: Record<string, string> = {}) => {
    const params = new URLSearchParams({ topic, from: iso(at), to: iso(at + 60_000), ...extra });
    const response = await get(`/api/messages?${params.toString()}`);
    return { status: response.status, body: (await response.json()) as MessageList & { message?: string } };
  };
  const topicsFor = async (filter: string, extra: Record<string, string> = {}) =>
    (await search(filter, extra)).body.messages.map((m) => m.topic);

  it("matches + to one level and # to the rest, newest first [MQTT-4.7.1-2, MQTT-4.7.1-3]", async () => {
    expect(await topicsFor("devices/+/telemetry")).toEqual(["devices/c%_x/telemetry", "devices/b/telemetry", "devices/a/telemetry"]);
    expect(await topicsFor("devices/b/#")).toEqual(["devices/b/logs/boot", "devices/b/telemetry"]);
    expect(await topicsFor("devices/a/state")).toEqual(["devices/a/state"]);
    expect(await topicsFor("#")).toHaveLength(5);
    expect(await topicsFor("+/+/+/+")).toEqual(["devices/b/logs/boot"]);
    expect(await topicsFor("devices/+")).toEqual([]);
  });

  it("treats SQL and LIKE characters in the filter as literal text", async () => {
    expect(await topicsFor("devices/c%_x/+")).toEqual(["devices/c%_x/telemetry"]);
    expect(await topicsFor("devices/%/+")).toEqual([]);
    expect(await topicsFor("devices/' OR '1'='1/#")).toEqual([]);
    expect(await topicsFor("devices/.*/telemetry")).toEqual([]);
  });

  it("returns the stored fields, binary payloads as base64", async () => {
    const { body } = await search("devices/b/telemetry");
    expect(body.messages).toEqual([
      {
        deviceId: "b",
        topic: "devices/b/telemetry",
        payload: Buffer.from([0xff, 0x00, 0xfe]).toString("base64"),
        payloadEncoding: "base64",
        qos: 0,
        retain: false,
        receivedAt: iso(at + 2000),
      },
    ]);
    expect((await search("devices/a/state")).body.messages[0]).toMatchObject({
      payload: "on",
      payloadEncoding: "utf8",
      retain: true,
      qos: 1,
    });
  });

  it("honours the time range and the limit", async () => {
    expect(await topicsFor("#", { from: iso(at + 1000), to: iso(at + 3000) })).toEqual(["devices/b/telemetry", "devices/a/state"]);
    expect(await topicsFor("#", { limit: "2" })).toEqual(["devices/c%_x/telemetry", "devices/b/logs/boot"]);
  });

  it("answers 400 for an invalid filter or range", async () => {
    for (const [filter, extra] of [
      ["devices/#/x", {}],
      ["devices/a+", {}],
      ["#", { from: iso(at + 1000), to: iso(at) }],
      ["#", { limit: "0" }],
      ["#", { limit: "1001" }],
    ] as const) {
      const { status, body } = await search(filter, extra);
      expect([filter, status]).toEqual([filter, 400]);
      expect(body.message).toEqual(expect.any(String));
    }
  });
});

describe("GET /api/devices/:id/presence over a range", () => {
  const at = Date.parse("2026-01-12T00:00:00.000Z");
  beforeAll(async () => {
    const events: [number, boolean, string][] = [
      [0, true, "connected"],
      [600_000, false, "connection lost"],
      [900_000, true, "connected"],
      [1_800_000, false, "disconnected"],
      [2_400_000, true, "connected"],
    ];
    for (const [offset, online, reason] of events)
      await sql("INSERT INTO presence_events (device_id, online, reason, at) VALUES ('sensor', $1, $2, $3)", [
        online,
        reason,
        new Date(at + offset),
      ]);
  });
  const presence = async (query: string) => {
    const response = await get(`/api/devices/sensor/presence?${query}`);
    return { status: response.status, body: (await response.json()) as PresenceHistory };
  };

  it("lists the events inside the range, newest first, and the last one before it: the state the range starts in", async () => {
    const { status, body } = await presence(`from=${iso(at + 700_000)}&to=${iso(at + 2_400_000)}`);
    expect(status).toBe(200);
    expect(body.items.map((e) => [e.at, e.online, e.reason])).toEqual([
      [iso(at + 1_800_000), false, "disconnected"],
      [iso(at + 900_000), true, "connected"],
    ]);
    expect(body.before).toEqual({ deviceId: "sensor", online: false, reason: "connection lost", at: iso(at + 600_000) });
  });

  it("says there was no event before a range that starts before the first one", async () => {
    const { body } = await presence(`from=${iso(at - 1000)}&to=${iso(at + 1000)}`);
    expect(body.items.map((e) => e.at)).toEqual([iso(at)]);
    expect(body.before).toBeNull();
  });

  it("answers 400 for a range that ends before it starts", async () => {
    const { status, body } = await presence(`from=${iso(at + 1000)}&to=${iso(at)}`);
    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, message: expect.stringContaining("is after") });
  });
});

describe("any query string", () => {
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("2026-01-10T00:00:00.000Z", "2026-01-09T00:00:00Z", "", "0", "-1"));
  const query = (params: [string, string][]) => new URLSearchParams(params).toString();

  it("gets the export or a 400 that says why, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom("metric", "from", "to", "layout", "other"), text), { maxLength: 6 }),
        async (params) => {
          const response = await get(`/api/devices/sensor/telemetry.csv?${query(params)}`);
          expect([200, 400]).toContain(response.status);
          if (response.status === 400) expect(await response.json()).toMatchObject({ statusCode: 400, message: expect.any(String) });
          else await response.text();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("gets the presence history or a 400 that says why, never a server error", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom("from", "to", "limit"), text), { maxLength: 4 }), async (params) => {
        const response = await get(`/api/devices/sensor/presence?${query(params)}`);
        expect([200, 400]).toContain(response.status);
        expect(await response.json()).toMatchObject(response.status === 200 ? { deviceId: "sensor" } : { statusCode: 400 });
      }),
      { numRuns: 60 },
    );
  });
});

describe("access", () => {
  it("requires a signed-in operator or an API token", async () => {
    for (const path of ["/api/devices/sensor/metrics", "/api/devices/sensor/telemetry?metric=temp", "/api/messages?topic=%23"]) {
      expect((await fetch(`${server.httpUrl}${path}`)).status, path).toBe(401);
    }
  });
});
