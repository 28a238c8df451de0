// Notifications across nodes and crashes, with real processes:
// - two nodes on one PostgreSQL (bridged by Redis): every event reaches the channel once;
// - a server killed with SIGKILL after the alert committed, its delivery unanswered: the
//   delivery is made after the restart, with the same delivery id;
// - end to end: a real device process (mosquitto_sub with a Last Will) killed with SIGKILL,
//   no DISCONNECT: exactly one signed alert.raised within the offline grace + 5 s; the device
//   back: exactly one alert.resolved. The time from the kill to the webhook is printed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import {
  startTestServer,
  startTwoNodes,
  spawnServer,
  testAdmin,
  type ServerProcess,
  type TestServer,
  type TwoNodes,
} from "../../../test/support/fleetwatch.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { deviceConnectOptions, deviceSecret, registerDevice } from "../../../test/support/devices.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { adminQuery } from "../../../test/support/postgres.ts";

const redisUrl = process.env.TEST_REDIS_URL;
const receivers: WebhookReceiver[] = [];
const clients: MqttClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(secret: string): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(secret);
  receivers.push(started);
  return started;
}

describe.skipIf(!redisUrl)("two nodes on one PostgreSQL", () => {
  let nodes: TwoNodes | undefined;
  let nodeA: TestServer;
  let nodeB: TestServer;
  beforeAll(async () => {
    nodes = await startTwoNodes(redisUrl as string, {
      ALERT_OFFLINE_GRACE_MS: "0",
      ALERT_SWEEP_MS: "100",
      NOTIFY_POLL_MS: "100",
      NOTIFY_RATE_LIMIT: "10000",
    });
    ({ nodeA, nodeB } = nodes);
  });
  afterAll(async () => {
    await nodes?.close();
  });

  it("deliver each event to the channel once, not once per node", async () => {
    const secret = "two-nodes-secret-0123";
    const hook = await receiver(secret);
    const token = await apiToken(nodeA.httpUrl);
    const created = await call(nodeA.httpUrl, "POST", "/api/notification-channels", {
      token,
      body: { name: "Cluster", type: "webhook", url: hook.url, secret },
    });
    expect(created.status).toBe(201);
    // Devices on both nodes drop (offline alert raised) and come back on the other node
    // (resolved): both nodes' dispatchers wake for each change and race for its row.
    const devices = 10;
    for (let i = 0; i < devices; i++) {
      const id = `cl-${i}`;
      await registerDevice(nodeA.database.url, id);
      const [first, second] = i % 2 === 0 ? [nodeA, nodeB] : [nodeB, nodeA];
      const dropped = await mqtt.connectAsync(first.mqttUrl, deviceConnectOptions(id));
      dropped.stream.destroy();
      await hook.next((r) => r.body.event === "alert.raised" && r.body.device.id === id);
      clients.push(await mqtt.connectAsync(second.mqttUrl, deviceConnectOptions(id)));
      await hook.next((r) => r.body.event === "alert.resolved" && r.body.device.id === id);
    }
    const expected = devices * 2;
    // Proven by a later event: one more alert after all of them arrives, and nothing else did.
    await registerDevice(nodeA.database.url, "cl-last");
    (await mqtt.connectAsync(nodeB.mqttUrl, deviceConnectOptions("cl-last"))).stream.destroy();
    await hook.next((r) => r.body.device.id === "cl-last");
    await waitFor(async () => {
      const { rows } = await nodeA.fleetwatch.database.pool.query("SELECT 1 FROM notification_outbox WHERE status = 'pending'");
      return rows.length === 0;
    }, "every delivery settled");

    const keys = hook.received.map((r) => `${r.body.event}:${r.body.alert.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(expected + 1);
    expect(hook.received.every((r) => r.signatureValid)).toBe(true);
    const { rows } = await nodeA.fleetwatch.database.pool.query<{ status: string; attempts: number; n: number }>(
      "SELECT status, attempts, count(*)::int AS n FROM notification_outbox GROUP BY status, attempts",
    );
    expect(rows).toEqual([{ status: "delivered", attempts: 1, n: expected + 1 }]);
  }, 120_000);
});

describe("a server killed after the alert committed", () => {
  let database: TestDatabase;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    await database.drop();
  });

  async function start(): Promise<{ server: ServerProcess; httpUrl: string; mqttUrl: string }> {
    const server = spawnServer({
      DATABASE_URL: database.url,
      PORT: "0",
      MQTT_PORT: "0",
      ADMIN_EMAIL: testAdmin.email,
      ADMIN_PASSWORD: testAdmin.password,
      ALERT_OFFLINE_GRACE_MS: "200",
      ALERT_SWEEP_MS: "100",
      NOTIFY_TIMEOUT_MS: "1000",
      NOTIFY_POLL_MS: "100",
    });
    servers.push(server);
    await server.waitForOutput(/Fleetwatch is running/);
    const http = /dashboard http:\/\/localhost:(\d+)\//.exec(server.output())?.[1];
    const mqttPort = /MQTT mqtt:\/\/localhost:(\d+)/.exec(server.output())?.[1];
    return { server, httpUrl: `http://127.0.0.1:${http}`, mqttUrl: `mqtt://127.0.0.1:${mqttPort}` };
  }

  it("delivers it after the restart (SIGKILL while the webhook was unanswered)", async () => {
    const secret = "crash-secret-0123456789";
    const hook = await receiver(secret);
    // The first request is never answered: the server is killed while it waits.
    hook.respond((_request, index) => (index === 0 ? new Promise<number>(() => undefined) : 200));
    const first = await start();
    const token = await apiToken(first.httpUrl);
    const created = await call(first.httpUrl, "POST", "/api/notification-channels", {
      token,
      body: { name: "Crash", type: "webhook", url: hook.url, secret },
    });
    expect(created.status).toBe(201);
    await registerDevice(database.url, "crash-1");
    const device = await mqtt.connectAsync(first.mqttUrl, deviceConnectOptions("crash-1"));
    device.stream.destroy();

    const unanswered = await hook.next(() => true);
    first.server.child.kill("SIGKILL");
    expect(await first.server.exited).toBe("SIGKILL");
    const { rows: pending } = await adminQuery(database.url, "SELECT status FROM notification_outbox");
    expect(pending).toEqual([{ status: "pending" }]);

    await start();
    const redelivered = await hook.next((r) => r !== unanswered, 30_000);
    expect(redelivered.signatureValid).toBe(true);
    expect(redelivered.body.id).toBe(unanswered.body.id);
    expect(redelivered.body).toMatchObject({ event: "alert.raised", alert: { kind: "offline" }, device: { id: "crash-1" } });
    await waitFor(async () => {
      const { rows } = await adminQuery(database.url, "SELECT status, attempts FROM notification_outbox");
      return rows[0]?.status === "delivered" ? rows : undefined;
    }, "the delivery settled").then((rows) => expect(rows).toEqual([{ status: "delivered", attempts: 2 }]));
    expect(hook.received).toHaveLength(2);
  }, 180_000);
});

describe("end to end: a device killed without DISCONNECT", () => {
  let server: TestServer;
  const graceMs = 5_000;
  beforeAll(async () => {
    // Defaults, as a user runs it: the 5 s offline grace, the 1 s sweeps and polls.
    server = await startTestServer({ ALERT_OFFLINE_GRACE_MS: String(graceMs) });
  });
  afterAll(async () => {
    await server?.close();
  });

  function deviceProcess(id: string): ChildProcess {
    const port = new URL(server.mqttUrl).port;
    // A real MQTT client in its own process, with a Last Will [MQTT-3.1.2-8].
    return spawn(
      "mosquitto_sub",
      ["-h", "127.0.0.1", "-p", port, "-i", id, "-u", id, "-P", deviceSecret(id), "-t", `devices/${id}/commands`, "-q", "1"].concat([
        "--will-topic",
        `devices/${id}/status`,
        "--will-payload",
        "offline",
        "--will-qos",
        "1",
        "-k",
        "30",
      ]),
      { stdio: "ignore" },
    );
  }

  it("sends exactly one signed alert.raised within grace + 5 s, and one alert.resolved when it is back", async () => {
    const secret = "end-to-end-secret-0123";
    const hook = await receiver(secret);
    const token = await apiToken(server.httpUrl);
    const created = await call(server.httpUrl, "POST", "/api/notification-channels", {
      token,
      body: { name: "E2E", type: "webhook", url: hook.url, secret },
    });
    expect(created.status).toBe(201);
    await registerDevice(server.database.url, "e2e-dev", "Pump 7");
    const online = () =>
      server.fleetwatch.database.pool.query("SELECT online FROM devices WHERE id = 'e2e-dev'").then((r) => r.rows[0]?.online);

    const watcher = await mqtt.connectAsync(server.mqttUrl, {
      username: "token",
      password: token,
      clientId: "operator:e2e",
      reconnectPeriod: 0,
    });
    clients.push(watcher);
    await watcher.subscribeAsync("devices/e2e-dev/status", { qos: 1 });
    const will = new Promise<string>((resolve) => watcher.once("message", (_t, payload) => resolve(payload.toString())));

    const device = deviceProcess("e2e-dev");
    await waitFor(online, "the device online");
    const killedAt = Date.now();
    device.kill("SIGKILL");
    await once(device, "exit");
    expect(await will).toBe("offline");

    const raised = await hook.next((r) => r.body.event === "alert.raised", graceMs + 5_000);
    const latencyMs = raised.at - killedAt;
    console.log(`kill -9 of the device → signed alert.raised at the webhook: ${latencyMs} ms (offline grace ${graceMs} ms)`);
    expect(latencyMs).toBeLessThanOrEqual(graceMs + 5_000);
    expect(raised.signatureValid).toBe(true);
    expect(raised.body).toMatchObject({ alert: { kind: "offline", severity: "critical" }, device: { id: "e2e-dev", name: "Pump 7" } });

    const back = deviceProcess("e2e-dev");
    try {
      const resolved = await hook.next((r) => r.body.event === "alert.resolved", 15_000);
      expect(resolved.signatureValid).toBe(true);
      expect(resolved.body.alert.id).toBe(raised.body.alert.id);
      // Exactly one each: the outbox holds these two, each delivered on its first try.
      const rows = await waitFor(async () => {
        const { rows } = await server.fleetwatch.database.pool.query("SELECT event, status, attempts FROM notification_outbox ORDER BY id");
        return rows.every((row) => row.status !== "pending") && rows;
      }, "the deliveries settled");
      expect(rows).toEqual([
        { event: "alert.raised", status: "delivered", attempts: 1 },
        { event: "alert.resolved", status: "delivered", attempts: 1 },
      ]);
      expect(hook.received.map((r) => r.body.event)).toEqual(["alert.raised", "alert.resolved"]);
    } finally {
      back.kill("SIGKILL");
    }
  }, 60_000);
});
