// GET /metrics, read by the real thing: Debian's Prometheus scrapes a running Fleetwatch and
// its ingest counter must equal what a real MQTT client published; promtool checks the
// exposition and the shipped scrape config, alert rules (and their unit tests); the Grafana
// dashboard may only query metrics the endpoint serves. Access: loopback without a token
// only (TRUST_PROXY cannot make a remote client look local), else the Bearer token.
import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import mqtt, { type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { promtool, sample, startPrometheus } from "../../../test/support/prometheus.ts";
import { waitFor } from "../../../test/support/wait.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
// Distinctive, so that finding it in the exposition would mean a label carries device ids or topics.
const DEVICE = "metrics-probe-7f3a9c";

/** Every metric issue 17 lists (notification deliveries are added by the notifications module). */
const REQUIRED = [
  "fleetwatch_mqtt_connected_clients",
  "fleetwatch_mqtt_connections_total",
  "fleetwatch_mqtt_connect_refused_total",
  "fleetwatch_mqtt_messages_received_total",
  "fleetwatch_mqtt_messages_sent_total",
  "fleetwatch_ingest_messages_total",
  "fleetwatch_ingest_batch_size",
  "fleetwatch_ingest_commit_seconds",
  "fleetwatch_ingest_qos0_dropped_total",
  "fleetwatch_ingest_commit_failures_total",
  "fleetwatch_live_connections",
  "fleetwatch_live_dropped_total",
  "fleetwatch_devices",
  "fleetwatch_alerts_active",
  "fleetwatch_db_pool_connections",
  "fleetwatch_db_pool_idle_connections",
  "fleetwatch_db_pool_waiting_requests",
  "fleetwatch_http_request_duration_seconds",
  "process_cpu_seconds_total",
  "nodejs_eventloop_lag_seconds",
];

let server: TestServer;
const clients: MqttClient[] = [];

const scrape = async (node: TestServer = server, headers: Record<string, string> = {}) => {
  const response = await fetch(`${node.httpUrl}/metrics`, { headers });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
};

beforeAll(async () => {
  server = await startTestServer();
  await registerDevice(server.database.url, DEVICE);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
});

describe("GET /metrics", () => {
  it("serves every listed metric with HELP text, each series labelled with this node's id, in a format promtool accepts", async () => {
    const { status, type, text } = await scrape();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of REQUIRED) expect(text, name).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
    const nodeId = server.fleetwatch.broker.id;
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toContain(`node="${nodeId}"`);
    for (const transport of ["tcp", "tls", "websocket"]) expect(sample(text, "fleetwatch_mqtt_connected_clients", { transport })).toBe(0);
    for (const pool of ["main", "presence", "ingest"])
      expect(sample(text, "fleetwatch_db_pool_connections", { pool })).toBeGreaterThanOrEqual(0);
    expect(sample(text, "fleetwatch_database_up")).toBe(1);
    expect(sample(text, "fleetwatch_devices", { status: "never_seen" })).toBe(1);
    // promtool reads the exposition from stdin and exits non-zero on a format error.
    await promtool(["check", "metrics"], text);
  });

  it("a real Prometheus scraping the node finds the ingest counter equal to the messages a real MQTT client published, by QoS", async () => {
    const prometheus = await startPrometheus([new URL(server.httpUrl).host]);
    try {
      const device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(DEVICE));
      clients.push(device);
      const published = { 0: 7, 1: 11, 2: 5 } as const;
      for (const qos of [0, 1, 2] as const) {
        for (let i = 0; i < published[qos]; i++)
          await device.publishAsync(`devices/${DEVICE}/telemetry`, JSON.stringify({ i, qos }), { qos });
      }
      const node = server.fleetwatch.broker.id;
      const total = published[0] + published[1] + published[2];
      await waitFor(
        async () => (await prometheus.query(`sum(fleetwatch_ingest_messages_total{node="${node}"})`)) === total,
        `Prometheus to report ${total} ingested messages`,
        60_000,
      );
      for (const qos of [0, 1, 2] as const) {
        expect(await prometheus.query(`fleetwatch_ingest_messages_total{node="${node}",qos="${qos}"}`)).toBe(published[qos]);
        expect(await prometheus.query(`fleetwatch_mqtt_messages_received_total{node="${node}",qos="${qos}"}`)).toBe(published[qos]);
      }
      expect(await prometheus.query(`fleetwatch_mqtt_connected_clients{node="${node}",transport="tcp"}`)).toBe(1);
      expect(await prometheus.query(`fleetwatch_mqtt_connections_total{node="${node}",transport="tcp"}`)).toBeGreaterThanOrEqual(1);
      expect(await prometheus.query(`sum(fleetwatch_ingest_batch_size_count{node="${node}"})`)).toBeGreaterThan(0);
      expect(await prometheus.query(`up{job="fleetwatch"}`)).toBe(1);
    } finally {
      await prometheus.stop();
    }
  });

  it("counts messages sent to subscribers by the QoS they were sent with, and refused CONNECTs by reason", async () => {
    const before = (await scrape()).text;
    const subscriber = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(DEVICE, { clientId: DEVICE, clean: true }));
    clients.push(subscriber);
    await subscriber.subscribeAsync(`devices/${DEVICE}/#`, { qos: 1 });
    const received = new Promise<void>((resolve) => subscriber.once("message", () => resolve()));
    await subscriber.publishAsync(`devices/${DEVICE}/telemetry`, '{"v":1}', { qos: 1 });
    await received;
    const refused = await mqtt.connectAsync(server.mqttUrl, { ...deviceConnectOptions(DEVICE), password: "wrong", clientId: DEVICE }).then(
      (client) => (clients.push(client), "accepted"),
      () => "refused",
    );
    expect(refused).toBe("refused");
    const after = await waitFor(async () => {
      const { text } = await scrape();
      const sent =
        (sample(text, "fleetwatch_mqtt_messages_sent_total", { qos: "1" }) ?? 0) -
        (sample(before, "fleetwatch_mqtt_messages_sent_total", { qos: "1" }) ?? 0);
      return sent >= 1 && text;
    }, "a QoS 1 delivery to be counted");
    expect(
      (sample(after, "fleetwatch_mqtt_connect_refused_total", { reason: "bad_credentials" }) ?? 0) -
        (sample(before, "fleetwatch_mqtt_connect_refused_total", { reason: "bad_credentials" }) ?? 0),
    ).toBe(1);
  });

  it("labels never carry device ids, topics or request paths, whatever clients request (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), async (segment) => {
        const path = `/api/devices/${encodeURIComponent(segment)}-${DEVICE}`;
        await fetch(`${server.httpUrl}${path}`);
        await fetch(`${server.httpUrl}/no-such-${encodeURIComponent(segment)}`);
      }),
      { numRuns: 25 },
    );
    const { text } = await scrape();
    expect(text).not.toContain(DEVICE);
    expect(text).not.toContain("no-such-");
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    expect(routes).toContain("/api/devices/:id");
    expect(routes).toContain("unmatched");
  });
});

describe("who may read /metrics", () => {
  it("without METRICS_TOKEN: loopback only; a trusted proxy forwarding a remote client, or a remote address, gets 403", async () => {
    const node = await startTestServer({ HOST: "0.0.0.0", TRUST_PROXY: "loopback" });
    try {
      expect((await scrape(node)).status).toBe(200);
      const forwarded = await scrape(node, { "x-forwarded-for": "203.0.113.7" });
      expect(forwarded.status).toBe(403);
      expect(JSON.parse(forwarded.text)).toMatchObject({ code: "METRICS_LOOPBACK_ONLY" });
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === "IPv4" && !address.internal);
      expect(external, "this test needs a non-loopback IPv4 address").toBeDefined();
      const remote = await fetch(`http://${external!.address}:${node.fleetwatch.ports.http}/metrics`);
      expect(remote.status).toBe(403);
    } finally {
      await node.close();
    }
  });

  it("with METRICS_TOKEN: only Authorization: Bearer <token> opens it, from loopback too; anything else is 401, never an error (fast-check)", async () => {
    const token = "prometheus-scrape-token-0123456789";
    const node = await startTestServer({ METRICS_TOKEN: token });
    try {
      expect((await scrape(node)).status).toBe(401);
      const ok = await scrape(node, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain("# HELP fleetwatch_ingest_messages_total");
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 80 }), async (header) => {
          fc.pre(header.trim() !== `Bearer ${token}` && !/[\r\n\0]/.test(header));
          const value = header.replace(/[^\x20-\x7e]/g, "");
          fc.pre(!/^Bearer\s+prometheus-scrape-token-0123456789\s*$/i.test(value));
          const response = await fetch(`${node.httpUrl}/metrics`, { headers: { authorization: value } });
          expect(response.status).toBe(401);
          expect(response.headers.get("www-authenticate")).toBe("Bearer");
        }),
        { numRuns: 40 },
      );
    } finally {
      await node.close();
    }
  });

  it("METRICS_ENABLED=false: there is no /metrics", async () => {
    const node = await startTestServer({ METRICS_ENABLED: "false" });
    try {
      expect((await scrape(node)).status).toBe(404);
    } finally {
      await node.close();
    }
  });
});

describe("shipped monitoring files", () => {
  it("prometheus.yml and the alert rules pass promtool check config / check rules, and the rules' unit tests pass", async () => {
    await promtool(["check", "config", `${repoRoot}deploy/prometheus/prometheus.yml`]);
    await promtool(["check", "rules", `${repoRoot}deploy/prometheus/alerts.yml`]);
    await promtool(["test", "rules", `${repoRoot}deploy/prometheus/alerts.test.yml`]);
  });

  it("the Grafana dashboard queries only metrics that /metrics serves", async () => {
    const dashboard = JSON.parse(await readFile(`${repoRoot}deploy/grafana/fleetwatch.json`, "utf8")) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    expect(exprs.length).toBeGreaterThan(10);
    const { text } = await scrape();
    const served = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap((m) => [m[1]!, `${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`]),
    );
    for (const expr of exprs) {
      for (const [name] of expr.matchAll(/\b(?:fleetwatch|process|nodejs)_[a-z0-9_]+/g))
        expect(served, `${name} in ${expr}`).toContain(name);
    }
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)("two nodes sharing PostgreSQL, bridged by Redis", () => {
  it("each node's metrics carry its own node id and count its own clients; fleet-wide gauges agree", async () => {
    const nodeA = await startTestServer({ REDIS_URL: redisUrl as string });
    const nodeB = await startTestServer({ REDIS_URL: redisUrl as string }, { database: nodeA.database });
    const prometheus = await startPrometheus([new URL(nodeA.httpUrl).host, new URL(nodeB.httpUrl).host]);
    try {
      await registerDevice(nodeA.database.url, "two-node-metrics-1");
      const device = await mqtt.connectAsync(nodeB.mqttUrl, deviceConnectOptions("two-node-metrics-1"));
      clients.push(device);
      await device.publishAsync("devices/two-node-metrics-1/telemetry", '{"v":1}', { qos: 1 });
      const [a, b] = [nodeA.fleetwatch.broker.id, nodeB.fleetwatch.broker.id];
      expect(a).not.toBe(b);
      await waitFor(
        async () => (await prometheus.query(`count(count by (node) (fleetwatch_mqtt_connected_clients))`)) === 2,
        "Prometheus to see both nodes",
        60_000,
      );
      await waitFor(
        async () => (await prometheus.query(`sum(fleetwatch_ingest_messages_total{node="${b}"})`)) === 1,
        "node B's ingest counter",
        60_000,
      );
      expect(await prometheus.query(`sum(fleetwatch_mqtt_connected_clients{node="${a}"})`)).toBe(0);
      expect(await prometheus.query(`sum(fleetwatch_mqtt_connected_clients{node="${b}"})`)).toBe(1);
      expect(await prometheus.query(`sum(fleetwatch_ingest_messages_total{node="${a}"})`)).toBe(0);
      await waitFor(
        async () =>
          (await prometheus.query(`fleetwatch_devices{node="${a}",status="online"}`)) === 1 &&
          (await prometheus.query(`fleetwatch_devices{node="${b}",status="online"}`)) === 1,
        "both nodes to report the device online",
        60_000,
      );
    } finally {
      await prometheus.stop();
      await nodeB.close();
      await nodeA.close();
    }
  });
});
