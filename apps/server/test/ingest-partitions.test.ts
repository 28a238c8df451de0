// Day partitions and retention, and the writer's flush on a graceful stop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import pg from "pg";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { maintainPartitions } from "../src/ingest/partitions.ts";

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, "");

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ RETENTION_DAYS: "7" });
});
afterAll(() => server.close());

const sql = async (text: string, params: unknown[] = []) => (await adminQuery(server.database.url, text, params)).rows;
const partitionsOf = async (table: string) =>
  (
    await sql(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass ORDER BY 1`, [
      table,
    ])
  ).map((r: { relname: string }) => r.relname);

describe("day partitions", () => {
  it("exist from yesterday to three days ahead once the server has started", async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const expected = [-1, 0, 1, 2, 3].map((n) => `readings_p${day(today + n * DAY)}`);
    expect(await partitionsOf("readings")).toEqual(expect.arrayContaining([...expected, "readings_default"]));
    expect(await partitionsOf("messages")).toEqual(expect.arrayContaining([`messages_p${day(today)}`, "messages_default"]));
  });

  it("are created once even when several nodes maintain them at the same moment", async () => {
    const later = Date.now() + 20 * DAY;
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: server.database.url, max: 1 }));
    try {
      // (A year's retention, so that running "20 days later" drops nothing the next tests use.)
      const results = await Promise.all(pools.map((pool) => maintainPartitions(pool, 365, later)));
      const created = results.flatMap((r) => r.created);
      expect(created).toHaveLength(new Set(created).size);
      expect(created).toContain(`readings_p${day(later)}`);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("take over rows that the DEFAULT partition caught before they existed (a device clock ahead)", async () => {
    const ahead = Math.floor(Date.now() / DAY) * DAY + 40 * DAY;
    await sql(`INSERT INTO readings (device_id, metric, time, value) VALUES ('clock', 'x', $1, 1)`, [new Date(ahead + 3_600_000)]);
    expect(await sql(`SELECT count(*)::int AS n FROM readings_default WHERE device_id = 'clock'`)).toEqual([{ n: 1 }]);
    const pool = new pg.Pool({ connectionString: server.database.url, max: 1 });
    const result = await maintainPartitions(pool, 365, ahead).finally(() => pool.end());
    expect(result.created).toContain(`readings_p${day(ahead)}`);
    expect(await sql(`SELECT count(*)::int AS n FROM readings_default WHERE device_id = 'clock'`)).toEqual([{ n: 0 }]);
    expect(await sql(`SELECT count(*)::int AS n FROM readings_p${day(ahead)} WHERE device_id = 'clock'`)).toEqual([{ n: 1 }]);
  });

  it("are dropped whole once older than RETENTION_DAYS, and expired DEFAULT rows go too", async () => {
    await registerDevice(server.database.url, "old");
    const today = Math.floor(Date.now() / DAY) * DAY;
    await sql(`INSERT INTO readings (device_id, metric, time, value) VALUES ('old', 'x', $1, 1)`, [new Date(today + 3_600_000)]);
    await sql(`INSERT INTO readings (device_id, metric, time, value) VALUES ('old', 'x', '2001-01-01T00:00:00Z', 2)`); // DEFAULT
    // Eight days on, today's partition is entirely older than 7 days.
    const result = await server.fleetwatch.ingest.maintainPartitions(today + 8 * DAY);
    expect(result.dropped).toEqual(expect.arrayContaining([`readings_p${day(today)}`, `messages_p${day(today)}`]));
    expect(result.expiredDefaultRows).toBeGreaterThanOrEqual(1);
    expect(await partitionsOf("readings")).not.toContain(`readings_p${day(today)}`);
    expect(await sql(`SELECT value FROM readings WHERE device_id = 'old'`)).toEqual([]);
  });
});

describe("graceful stop", () => {
  it("commits buffered QoS 0 messages before the database closes", async () => {
    // A long linger keeps the messages in the buffer until close() flushes them.
    const own = await startTestServer({ INGEST_LINGER_MS: "1000", INGEST_BATCH_MAX: "1000" });
    try {
      await registerDevice(own.database.url, "bye");
      const client = await mqtt.connectAsync(own.mqttUrl, deviceConnectOptions("bye"));
      for (let seq = 0; seq < 20; seq++) await client.publishAsync("devices/bye/telemetry", JSON.stringify({ seq }), { qos: 0 });
      // The broker handles a client's packets in order: once this QoS 0 subscription is
      // acknowledged, it has handed every publish before it to ingest.
      await client.subscribeAsync("devices/bye/commands/#");
      // Some are still lingering in the buffer (the linger is a whole second).
      expect(own.fleetwatch.ingest.stats().stored).toBeLessThan(20);
      await own.fleetwatch.close();
      await client.endAsync(true);
      const rows = await adminQuery(own.database.url, "SELECT count(*)::int AS n FROM messages WHERE device_id = 'bye'");
      expect(rows.rows[0].n).toBe(20);
    } finally {
      await own.database.drop();
    }
  });
});
