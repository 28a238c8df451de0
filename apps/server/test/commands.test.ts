// Commands to devices, tracked to completion, with real MQTT clients as devices (mqtt.js and
// mosquitto_sub/mosquitto_pub) against a real server and PostgreSQL; and two nodes sharing
// one PostgreSQL, bridged by Redis, where the device is connected to the other node.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { MqttClient } from "mqtt";
import type WebSocket from "ws";
import type { Command, CommandStatus, PlatformEvent } from "@fleetwatch/contracts";
import { startTestServer, startTwoNodes, type TestServer, type TwoNodes } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { connectClient } from "../../../test/support/mqtt.ts";
import { openLive, type LiveTestClient } from "../../../test/support/live.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { captureLogs } from "../../../test/support/logs.ts";
import { SimulatedDevice } from "../../../packages/simulator/src/device.ts";
import { connackCode } from "../../../test/support/mqtt.ts";

const logs = captureLogs();

let server: TestServer;
let token: string;
const clients: MqttClient[] = [];
const sockets: WebSocket[] = [];
const processes: ChildProcess[] = [];

async function device(node: TestServer, id: string, options: { clean?: boolean } = {}) {
  const { credentials } = await registerDevice(node.httpUrl, token, { name: id, id });
  const login = { clientId: id, username: id, password: credentials.password, clean: options.clean ?? true };
  return { login, connect: () => connectClient(node.mqttUrl, login, clients) };
}

const getCommand = async (node: TestServer, deviceId: string, commandId: string) =>
  (await call<Command>(node.httpUrl, "GET", `/api/devices/${deviceId}/commands/${commandId}`, { token })).body;

const waitForStatus = (node: TestServer, deviceId: string, commandId: string, status: CommandStatus) =>
  waitFor(
    async () => {
      const command = await getCommand(node, deviceId, commandId);
      return command.status === status ? command : undefined;
    },
    `command ${commandId} to be ${status}`,
    20_000,
  );

/** Command events seen on a live channel, in arrival order. */
const commandEvents = (live: LiveTestClient): Command[] =>
  live.frames.flatMap((frame) =>
    frame.type === "batch"
      ? frame.events.map((event) => event.data as PlatformEvent).flatMap((data) => (data.kind === "command.updated" ? [data.command] : []))
      : [],
  );

async function online(node: TestServer, deviceId: string) {
  await waitFor(
    async () => (await call(node.httpUrl, "GET", `/api/devices/${deviceId}`, { token })).body.online === true,
    `${deviceId} online`,
  );
}

/** A device with a persistent session subscribed to its commands at QoS 1, now offline; returns its login to come back with. */
async function awayWithSession(node: TestServer, deviceId: string) {
  const away = await device(node, deviceId, { clean: false });
  const first = await away.connect();
  await first.subscribeAsync(`devices/${deviceId}/commands/+`, { qos: 1 });
  await online(node, deviceId);
  await first.endAsync();
  await waitFor(async () => (await call(node.httpUrl, "GET", `/api/devices/${deviceId}`, { token })).body.online === false, "offline");
  return away.login;
}

const send = (node: TestServer, deviceId: string, body: unknown, as = token) =>
  call(node.httpUrl, "POST", `/api/devices/${deviceId}/commands`, { token: as, body });

describe("commands to devices", () => {
  beforeAll(async () => {
    server = await startTestServer({ ALERT_SWEEP_MS: "200" }, { logger: logs.logger });
    token = await apiToken(server.httpUrl);
  });
  afterAll(async () => {
    // (The README loop runs in its own process group: end the shell and its mosquitto_sub together.)
    for (const child of processes) if (child.pid) process.kill(-child.pid, "SIGTERM");
    for (const socket of sockets) socket.terminate();
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await server?.close();
  });

  it("sends a command that a connected device receives and answers: sent → delivered (its PUBACK) → responded, each pushed live", async () => {
    const pump = await device(server, "cmd-pump");
    const client = await pump.connect();
    await client.subscribeAsync("devices/cmd-pump/commands/+", { qos: 1 });
    const received = new Promise<{ topic: string; payload: string }>((resolve) =>
      client.once("message", (topic, payload) => resolve({ topic, payload: payload.toString() })),
    );
    await online(server, "cmd-pump");
    const live = await openLive(server.httpUrl, { authorization: `Bearer ${token}` });
    sockets.push(live.socket);

    const reply = await send(server, "cmd-pump", { name: "set-interval", params: { seconds: 5 }, timeoutSeconds: 60 });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ id: expect.any(String), status: "sent" });
    const id = reply.body.id as string;

    const message = await received;
    expect(message.topic).toBe(`devices/cmd-pump/commands/${id}`);
    expect(JSON.parse(message.payload)).toEqual({ name: "set-interval", params: { seconds: 5 } });
    await waitForStatus(server, "cmd-pump", id, "delivered");

    await client.publishAsync(`devices/cmd-pump/commands/${id}/response`, JSON.stringify({ ok: true, interval: 5 }), { qos: 1 });
    const answered = await waitForStatus(server, "cmd-pump", id, "responded");
    expect(answered).toMatchObject({
      name: "set-interval",
      params: { seconds: 5 },
      sentBy: "admin@test.local",
      response: { payload: '{"ok":true,"interval":5}', encoding: "utf8", ok: true },
      error: null,
    });
    for (const key of ["sentAt", "deliveredAt", "respondedAt"] as const) expect(answered[key]).toEqual(expect.any(String));
    expect(answered.expiredAt).toBeNull();

    await waitFor(() => commandEvents(live).some((c) => c.id === id && c.status === "responded"), "the responded event");
    expect(
      commandEvents(live)
        .filter((c) => c.id === id)
        .map((c) => c.status),
    ).toEqual(["sent", "delivered", "responded"]);

    const history = await call(server.httpUrl, "GET", "/api/devices/cmd-pump/commands", { token });
    expect(history.body).toMatchObject({ total: 1, items: [{ id, status: "responded" }] });
  });

  it("lets mosquitto_sub and mosquitto_pub be the device, with the README's loop: the command arrives at QoS 1 and the answer is stored", async () => {
    const { login } = await device(server, "cmd-mosquitto");
    const url = new URL(server.mqttUrl);
    // The loop of the README ("Commands to devices"), with this server's address and the device's password.
    const script = [
      `login='-h ${url.hostname} -p ${url.port} -i cmd-mosquitto -u cmd-mosquitto -P ${login.password} -c -q 1'`,
      "while line=$(mosquitto_sub $login -v -C 1 -t 'devices/cmd-mosquitto/commands/+'); do",
      '  echo "command: $line"',
      '  mosquitto_pub $login -t "${line%% *}/response" -m \'{"ok": true}\'',
      "done",
    ].join("\n");
    const loop = spawn("bash", ["-c", script], { detached: true });
    processes.push(loop);
    let output = "";
    loop.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await online(server, "cmd-mosquitto");
    // Its first SUBSCRIBE may trail the CONNECT: retry until a command reaches it (a command
    // sent before that fails or stays queued, and is answered on a later turn of the loop).
    let id = "";
    await waitFor(async () => {
      const reply = await send(server, "cmd-mosquitto", { name: "reboot", timeoutSeconds: 60 });
      if (reply.status === 202) id = reply.body.id;
      return id !== "" && output.includes(`command: devices/cmd-mosquitto/commands/${id} {"name":"reboot","params":null}`);
    }, "the loop to print the command");
    const answered = await waitForStatus(server, "cmd-mosquitto", id, "responded");
    expect(answered.response).toEqual({ payload: '{"ok": true}', encoding: "utf8", ok: true });
    expect(answered.deliveredAt).toEqual(expect.any(String));
    // And the next command, sent while the loop is between two connections, is queued or sent, and answered too.
    const next = (await send(server, "cmd-mosquitto", { name: "set-interval", params: { seconds: 10 }, timeoutSeconds: 60 })).body
      .id as string;
    await waitForStatus(server, "cmd-mosquitto", next, "responded");
  });

  it("queues a command for an offline device with a persistent session and delivers it once when it reconnects [MQTT-3.1.2-5]", async () => {
    const valve = await awayWithSession(server, "cmd-valve");

    const reply = await send(server, "cmd-valve", { name: "close", timeoutSeconds: 120 });
    expect(reply).toMatchObject({ status: 202, body: { status: "queued" } });
    const id = reply.body.id as string;
    expect((await getCommand(server, "cmd-valve", id)).queuedAt).toEqual(expect.any(String));

    const deliveries: string[] = [];
    const again = await connectClient(server.mqttUrl, { ...valve, clean: false, manualConnect: false }, clients);
    again.on("message", (topic) => deliveries.push(topic));
    await waitForStatus(server, "cmd-valve", id, "delivered");
    expect(deliveries).toEqual([`devices/cmd-valve/commands/${id}`]);

    // A later command arrives after it, and the first is not delivered again.
    const later = (await send(server, "cmd-valve", { name: "open", timeoutSeconds: 120 })).body.id as string;
    await waitFor(() => deliveries.includes(`devices/cmd-valve/commands/${later}`), "the later command");
    expect(deliveries).toEqual([`devices/cmd-valve/commands/${id}`, `devices/cmd-valve/commands/${later}`]);
  });

  it("does not deliver a queued command that expired before the device reconnected: it stays expired, and a later command still arrives [MQTT-3.3.2-5]", async () => {
    const tank = await awayWithSession(server, "cmd-stale");

    const stale = (await send(server, "cmd-stale", { name: "prime", timeoutSeconds: 1 })).body.id as string;
    await waitForStatus(server, "cmd-stale", stale, "expired");
    const fresh = (await send(server, "cmd-stale", { name: "stop", timeoutSeconds: 120 })).body.id as string;

    const deliveries: string[] = [];
    const again = await connectClient(server.mqttUrl, { ...tank, clean: false, manualConnect: false }, clients);
    again.on("message", (topic) => deliveries.push(topic));
    // The queue is replayed in order: once the later command is delivered, the stale one has had its turn.
    await waitForStatus(server, "cmd-stale", fresh, "delivered");
    expect(deliveries).toEqual([`devices/cmd-stale/commands/${fresh}`]);
    expect(await getCommand(server, "cmd-stale", stale)).toMatchObject({ status: "expired", deliveredAt: null });
  });

  it("refuses a command to a device that is offline without a session (409, recorded as failed), not a silent drop", async () => {
    await device(server, "cmd-gone");
    const reply = await send(server, "cmd-gone", { name: "reboot" });
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({
      code: "DEVICE_UNREACHABLE",
      message: expect.stringContaining("offline and has no persistent session"),
    });
    const history = await call(server.httpUrl, "GET", "/api/devices/cmd-gone/commands", { token });
    expect(history.body.items).toMatchObject([
      { status: "failed", failedAt: expect.any(String), error: expect.stringContaining("offline") },
    ]);
  });

  it("expires a command the device receives but never answers", async () => {
    const mute = await device(server, "cmd-mute");
    const client = await mute.connect();
    await client.subscribeAsync("devices/cmd-mute/commands/+", { qos: 1 });
    await online(server, "cmd-mute");
    // Long enough for the PUBACK's "delivered" to be stored first on a loaded machine: this
    // test is about a delivered command that nobody answers.
    const id = (await send(server, "cmd-mute", { name: "reboot", timeoutSeconds: 3 })).body.id as string;
    await waitForStatus(server, "cmd-mute", id, "delivered");
    const expired = await waitForStatus(server, "cmd-mute", id, "expired");
    expect(expired.deliveredAt).toEqual(expect.any(String));
    expect(expired.expiredAt).toEqual(expect.any(String));
    // A late answer changes nothing.
    await client.publishAsync(`devices/cmd-mute/commands/${id}/response`, '{"ok":true}', { qos: 1 });
    expect(await getCommand(server, "cmd-mute", id)).toMatchObject({ status: "expired", response: null });
  });

  it("lets a viewer read the history but not send (403)", async () => {
    await device(server, "cmd-viewed");
    await call(server.httpUrl, "POST", "/api/users", {
      token,
      body: { email: "cmd-viewer@test.local", password: "viewer-password", role: "viewer" },
    });
    const viewerToken = await apiToken(server.httpUrl, "cmd-viewer@test.local", "viewer-password");
    expect((await send(server, "cmd-viewed", { name: "reboot" }, viewerToken)).status).toBe(403);
    expect((await call(server.httpUrl, "GET", "/api/devices/cmd-viewed/commands", { token: viewerToken })).status).toBe(200);
  });

  it("answers 400 for a blank name or a bad timeout, 404 for an unknown device or command", async () => {
    await device(server, "cmd-bad");
    expect((await send(server, "cmd-bad", { name: "   " })).status).toBe(400);
    expect((await send(server, "cmd-bad", { name: "x", timeoutSeconds: 0 })).status).toBe(400);
    expect((await send(server, "cmd-bad", { name: "x", extra: 1 })).status).toBe(400);
    expect((await send(server, "cmd-nobody", { name: "x" })).status).toBe(404);
    expect(
      (await call(server.httpUrl, "GET", "/api/devices/cmd-bad/commands/00000000-0000-4000-8000-000000000000", { token })).status,
    ).toBe(404);
  });
  it("stores any bytes a device answers with and gives them back exactly: UTF-8 as text, anything else (U+0000 included) as base64 (fast-check)", async () => {
    const echo = await device(server, "cmd-bytes");
    const client = await echo.connect();
    await client.subscribeAsync("devices/cmd-bytes/commands/+", { qos: 1 });
    await online(server, "cmd-bytes");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.string({ unit: "binary", maxLength: 32 }).map((text) => new TextEncoder().encode(text)),
        ),
        async (bytes) => {
          const id = (await send(server, "cmd-bytes", { name: "echo", timeoutSeconds: 60 })).body.id as string;
          await client.publishAsync(`devices/cmd-bytes/commands/${id}/response`, Buffer.from(bytes), { qos: 1 });
          const { response } = await waitForStatus(server, "cmd-bytes", id, "responded");
          const stored = Buffer.from(response?.payload ?? "", response?.encoding === "base64" ? "base64" : "utf8");
          expect(stored.equals(Buffer.from(bytes))).toBe(true);
          if (Buffer.from(bytes).includes(0)) expect(response?.encoding).toBe("base64");
        },
      ),
      { numRuns: 25 },
    );
  });

  it("answers any JSON body with 202, 400 or 409 and a reason, never a server error (fast-check)", async () => {
    const listener = await device(server, "cmd-fuzz");
    const client = await listener.connect();
    await client.subscribeAsync("devices/cmd-fuzz/commands/+", { qos: 1 });
    await online(server, "cmd-fuzz");
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          name: fc.string({ maxLength: 120 }),
          params: fc.option(fc.jsonValue(), { nil: undefined }),
          timeoutSeconds: fc.option(fc.integer({ min: -5, max: 100_000 }), { nil: undefined }),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const reply = await send(server, "cmd-fuzz", value);
        expect([202, 400]).toContain(reply.status);
        if (reply.status === 400) expect(reply.body.message).toEqual(expect.any(String));
      }),
      { numRuns: 60 },
    );
    expect((await call(server.httpUrl, "GET", "/api/devices/cmd-fuzz/commands/not-a-uuid", { token })).status).toBe(404);
  });

  it("gets answers from the simulator's devices (what pnpm demo runs): reboot and set-interval respond ok, an unknown command responds not ok", async () => {
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Simulated", id: "cmd-sim" });
    const counters = { connected: 0, sent: 0, acked: 0, errors: 0, drops: 0, reconnects: 0, skipped: 0 };
    const simulated = new SimulatedDevice(
      { deviceId: "cmd-sim", clientId: "cmd-sim", username: "cmd-sim", password: credentials.password },
      { brokerUrl: server.mqttUrl, qos: 1, rate: 1, seed: 1 },
      counters,
    );
    await simulated.connect();
    try {
      await online(server, "cmd-sim");
      const answer = async (body: unknown) => {
        let id = "";
        // Its SUBSCRIBE follows its CONNACK: a command sent before it lands stays "sent"; send again.
        return waitFor(async () => {
          id = (await send(server, "cmd-sim", { ...(body as object), timeoutSeconds: 60 })).body.id;
          await new Promise((resolve) => setTimeout(resolve, 200));
          const command = await getCommand(server, "cmd-sim", id);
          return command.status === "responded" ? command : undefined;
        }, "the simulator's answer");
      };
      expect((await answer({ name: "reboot" })).response).toMatchObject({ ok: true });
      const interval = await answer({ name: "set-interval", params: { seconds: 2 } });
      expect(JSON.parse(interval.response?.payload ?? "")).toEqual({ ok: true, intervalSeconds: 2 });
      expect((await answer({ name: "set-interval", params: { seconds: -1 } })).response).toMatchObject({ ok: false });
      expect((await answer({ name: "self-destruct" })).response).toMatchObject({ ok: false });
    } finally {
      await simulated.stop();
    }
  });

  it("lets a script send commands over MQTT with an API token and any clientId but a registered device's; the refusal's log line names the rule", async () => {
    await device(server, "cmd-taken");
    expect(await connackCode(server.mqttUrl, { clientId: "ops-script", username: "token", password: token })).toBe(0);
    expect(await connackCode(server.mqttUrl, { clientId: "cmd-taken", username: "token", password: token })).toBe(2);
    const line = await logs.next("MQTT CONNECT refused", (entry) => entry.clientId === "cmd-taken");
    expect(line.msg).toContain("rule operator-client-id");
  });

  // The gate's rules for devices under commands/ (only .../response is theirs to publish) are in broker-acl.test.ts.
});

const redisUrl = process.env.TEST_REDIS_URL;
describe.skipIf(!redisUrl)("commands across two nodes sharing PostgreSQL, bridged by Redis", () => {
  let nodes: TwoNodes | undefined;
  let nodeA: TestServer;
  let nodeB: TestServer;
  beforeAll(async () => {
    nodes = await startTwoNodes(redisUrl as string, { ALERT_SWEEP_MS: "100" });
    ({ nodeA, nodeB } = nodes);
    token = await apiToken(nodeA.httpUrl);
  });
  afterAll(async () => {
    await nodes?.close();
  });

  it("sends through node A to a device on node B: delivered and responded are written by node B, read and pushed live on node A", async () => {
    const far = await device(nodeA, "mn-cmd-far");
    const client = await connectClient(nodeB.mqttUrl, far.login, clients);
    await client.subscribeAsync("devices/mn-cmd-far/commands/+", { qos: 1 });
    const received = new Promise<string>((resolve) => client.once("message", (topic) => resolve(topic)));
    await online(nodeA, "mn-cmd-far");
    const live = await openLive(nodeA.httpUrl, { authorization: `Bearer ${token}` });
    sockets.push(live.socket);

    const reply = await send(nodeA, "mn-cmd-far", { name: "reboot", timeoutSeconds: 60 });
    expect(reply.body.status).toBe("sent");
    const id = reply.body.id as string;
    expect(await received).toBe(`devices/mn-cmd-far/commands/${id}`);
    // The device answers once node B has stored its PUBACK. An answer that overtook that write would
    // set delivered_at itself (by design), and the "delivered" step this test is about would not exist.
    await waitForStatus(nodeA, "mn-cmd-far", id, "delivered");
    await client.publishAsync(`devices/mn-cmd-far/commands/${id}/response`, '{"ok":true}', { qos: 1 });
    await waitForStatus(nodeA, "mn-cmd-far", id, "responded");
    await waitFor(() => commandEvents(live).some((c) => c.id === id && c.status === "responded"), "node B's event on node A");
    expect(
      commandEvents(live)
        .filter((c) => c.id === id)
        .map((c) => c.status),
    ).toEqual(["sent", "delivered", "responded"]);
  });

  it("expires a command once although both nodes sweep", async () => {
    const quiet = await device(nodeA, "mn-cmd-quiet");
    const client = await connectClient(nodeB.mqttUrl, quiet.login, clients);
    await client.subscribeAsync("devices/mn-cmd-quiet/commands/+", { qos: 1 });
    await online(nodeA, "mn-cmd-quiet");
    const live = await openLive(nodeB.httpUrl, { authorization: `Bearer ${token}` });
    sockets.push(live.socket);

    const id = (await send(nodeA, "mn-cmd-quiet", { name: "reboot", timeoutSeconds: 1 })).body.id as string;
    await waitForStatus(nodeB, "mn-cmd-quiet", id, "expired");
    // A later command's expiry, announced after any second expiry of the first would have been.
    const later = (await send(nodeB, "mn-cmd-quiet", { name: "reboot", timeoutSeconds: 1 })).body.id as string;
    await waitFor(() => commandEvents(live).some((c) => c.id === later && c.status === "expired"), "the later expiry");
    expect(commandEvents(live).filter((c) => c.id === id && c.status === "expired")).toHaveLength(1);
  });
});
