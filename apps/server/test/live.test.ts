// The dashboard's live channel (/api/live) as a browser meets it: authentication and Origin
// checked before the upgrade, topic subscriptions with the operator's rights, platform
// events, and bursts batched at a bounded frame rate with the skipped messages counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import mqtt, { type MqttClient } from "mqtt";
import { LIVE_CLOSE, type LiveServerMessage } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, login } from "../../../test/support/api.ts";
import { openLive as openLiveChannel, type LiveTestClient } from "../../../test/support/live.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { captureLogs, type CapturedLogs } from "../../../test/support/logs.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { kernelConnection } from "../../../test/support/tcp-table.ts";
import { createConnection } from "node:net";
import { randomBytes } from "node:crypto";

let server: TestServer;
let token: string;
const clients: MqttClient[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ LIVE_MAX_FRAMES_PER_SECOND: "4", LIVE_QUEUE_LIMIT: "50", ALERT_OFFLINE_GRACE_MS: "0" });
  token = await apiToken(server.httpUrl);
});
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server.close();
});

const liveUrl = () => `${server.httpUrl.replace("http", "ws")}/api/live`;

/** The HTTP status of a refused upgrade, or 101. */
function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(liveUrl(), { headers });
    socket.once("open", () => (socket.terminate(), resolve(101)));
    socket.once("unexpected-response", (_request, response) => (response.resume(), resolve(response.statusCode ?? 0)));
    socket.once("error", () => undefined);
  });
}

/** Opens the live channel (as the test admin's API token by default); closed after the file's tests. */
async function openLive(headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<LiveTestClient> {
  const live = await openLiveChannel(server.httpUrl, headers);
  sockets.push(live.socket);
  return live;
}

describe("opening the live channel", () => {
  it("refuses a request with no session or token with 401, before any upgrade", async () => {
    expect(await upgradeStatus({})).toBe(401);
  });

  it("refuses a cross-site page (foreign Origin) with 403, even with a valid session cookie", async () => {
    const { cookie } = await login(server.httpUrl);
    expect(await upgradeStatus({ cookie, origin: "https://evil.example" })).toBe(403);
    expect(await upgradeStatus({ cookie, origin: server.httpUrl })).toBe(101);
  });

  it("greets with the frame rate and subscription limits", async () => {
    const live = await openLive();
    expect(await live.next((f) => f.type === "hello", "hello")).toEqual({ type: "hello", maxFramesPerSecond: 4, maxSubscriptions: 20 });
  });
});

describe("subscriptions", () => {
  it("streams messages matching a + filter from several devices", async () => {
    const live = await openLive();
    live.send({ type: "subscribe", id: "t", filter: "devices/+/telemetry" });
    await live.next((f) => f.type === "subscribed" && f.id === "t", "subscribed");
    for (const id of ["live-a", "live-b"]) {
      await registerDevice(server.database.url, id);
      const device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id));
      clients.push(device);
      await device.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ temp: 20 }), { qos: 1 });
    }
    await live.next((f) => f.type === "batch" && f.messages.some((m) => m.topic === "devices/live-b/telemetry"), "live-b's message");
    const messages = live.frames.flatMap((f) => (f.type === "batch" ? f.messages : []));
    expect(messages.map((m) => m.topic)).toEqual(expect.arrayContaining(["devices/live-a/telemetry", "devices/live-b/telemetry"]));
    const message = messages.find((m) => m.topic === "devices/live-a/telemetry");
    expect(message).toMatchObject({ subscription: "t", payload: '{"temp":20}', encoding: "utf8", qos: 1, retain: false });
  });

  it("pushes presence events without any subscription", async () => {
    const live = await openLive();
    await live.next((f) => f.type === "hello", "hello");
    await registerDevice(server.database.url, "live-presence");
    const device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("live-presence"));
    clients.push(device);
    const frame = await live.next(
      (f) => f.type === "batch" && f.events.some((e) => e.kind === "presence" && JSON.stringify(e.data).includes("live-presence")),
      "a presence event",
    );
    expect(frame.type).toBe("batch");
  });

  it("answers bad messages, invalid filters and filters beyond the operator's rights with errors, and keeps the channel open", async () => {
    const live = await openLive();
    live.send("not json");
    await live.next((f) => f.type === "error" && f.code === "bad-message", "bad-message");
    live.send({ type: "subscribe", id: "bad", filter: "a/#/b" });
    await live.next((f) => f.type === "error" && f.code === "bad-filter" && f.id === "bad", "bad-filter");
    live.send({ type: "subscribe", id: "internal", filter: "$fleetwatch/#" });
    await live.next((f) => f.type === "error" && f.code === "forbidden" && f.id === "internal", "forbidden");
    live.send({ type: "unsubscribe", id: "never" });
    await live.next((f) => f.type === "error" && f.code === "unknown-subscription", "unknown-subscription");
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe("a burst", () => {
  it("is batched into few frames, drops the oldest beyond the queue limit, and says how many were skipped", async () => {
    const live = await openLive();
    live.send({ type: "subscribe", id: "cmd", filter: "devices/burst/commands/#" });
    await live.next((f) => f.type === "subscribed", "subscribed");
    // An admin operator publishes commands (operators have no per-device publish rate).
    const operator = await mqtt.connectAsync(server.mqttUrl, {
      clientId: "operator:burst",
      username: "token",
      password: token,
      reconnectPeriod: 0,
    });
    clients.push(operator);
    const total = 300;
    for (let i = 0; i < total; i++) operator.publish("devices/burst/commands/set", String(i), { qos: 0 });
    await operator.publishAsync("devices/burst/commands/set", "last", { qos: 1 });

    await live.next((f) => f.type === "batch" && f.messages.some((m) => m.payload === "last"), "the last message");
    const batches = live.frames.filter((f): f is Extract<LiveServerMessage, { type: "batch" }> => f.type === "batch");
    const delivered = batches.reduce((n, f) => n + f.messages.length, 0);
    const skipped = batches.reduce((n, f) => n + (f.skipped.cmd ?? 0), 0);
    expect(delivered + skipped).toBe(total + 1);
    expect(skipped).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(delivered);
    // What arrives is the newest: within one subscription the queue drops its oldest.
    const payloads = batches.flatMap((f) => f.messages.map((m) => m.payload));
    expect(payloads.at(-1)).toBe("last");
  });
});

describe("revoked credentials", () => {
  const closed = (socket: WebSocket) =>
    new Promise<number>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve(-1);
      socket.once("close", (code) => resolve(code));
    });

  it("closes a channel opened with a session when that session signs out, and leaves the operator's other channels open", async () => {
    const { cookie, csrfToken } = await login(server.httpUrl);
    const other = await login(server.httpUrl);
    const signedOut = await openLive({ cookie, origin: server.httpUrl });
    const stillSignedIn = await openLive({ cookie: other.cookie, origin: server.httpUrl });
    const signedOutClosed = closed(signedOut.socket);

    const reply = await call(server.httpUrl, "POST", "/api/auth/logout", { headers: { cookie, "x-csrf-token": csrfToken } });
    expect(reply.status).toBe(204);
    expect(await signedOutClosed).toBe(LIVE_CLOSE.revoked);

    // The other session's channel still works: it subscribes and is answered.
    stillSignedIn.send({ type: "subscribe", id: "after", filter: "devices/+/status" });
    await stillSignedIn.next((f) => f.type === "subscribed" && f.id === "after", "the other channel's subscription");
    expect(stillSignedIn.socket.readyState).toBe(WebSocket.OPEN);
  });

  it("closes a channel and the MQTT connections opened with an API token when the token is revoked", async () => {
    const { cookie, csrfToken } = await login(server.httpUrl);
    const created = await call(server.httpUrl, "POST", "/api/tokens", {
      body: { name: "to revoke" },
      headers: { cookie, "x-csrf-token": csrfToken },
    });
    expect(created.status).toBe(201);
    const doomed = created.body.token as string;
    const live = await openLive({ authorization: `Bearer ${doomed}` });
    const liveClosed = closed(live.socket);
    const operator = await mqtt.connectAsync(server.mqttUrl, {
      clientId: "operator:revoked",
      username: "token",
      password: doomed,
      reconnectPeriod: 0,
    });
    clients.push(operator);
    const mqttClosed = new Promise<void>((resolve) => operator.once("close", () => resolve()));

    const revoked = await call(server.httpUrl, "DELETE", `/api/tokens/${created.body.id}`, {
      headers: { cookie, "x-csrf-token": csrfToken },
    });
    expect(revoked.status).toBe(204);
    expect(await liveClosed).toBe(LIVE_CLOSE.revoked);
    await mqttClosed;
    // And the token opens nothing any more.
    await expect(
      mqtt.connectAsync(server.mqttUrl, { clientId: "operator:revoked-2", username: "token", password: doomed, reconnectPeriod: 0 }),
    ).rejects.toThrow();
  });

  it("closes the channels of an operator whose role changed", async () => {
    const admin = await login(server.httpUrl);
    const created = await call(server.httpUrl, "POST", "/api/users", {
      body: { email: "demoted@test.local", password: "demoted-password", role: "admin" },
      headers: { cookie: admin.cookie, "x-csrf-token": admin.csrfToken },
    });
    expect(created.status).toBe(201);
    const demoted = await login(server.httpUrl, "demoted@test.local", "demoted-password");
    const live = await openLive({ cookie: demoted.cookie, origin: server.httpUrl });
    const liveClosed = closed(live.socket);

    const changed = await call(server.httpUrl, "PATCH", `/api/users/${created.body.id}`, {
      body: { role: "viewer" },
      headers: { cookie: admin.cookie, "x-csrf-token": admin.csrfToken },
    });
    expect(changed.status).toBe(200);
    expect(await liveClosed).toBe(LIVE_CLOSE.revoked);
  });
});

describe("a browser that stops reading", () => {
  let slow: TestServer;
  let logs: CapturedLogs;
  beforeAll(async () => {
    logs = captureLogs();
    slow = await startTestServer({ LIVE_MAX_BUFFERED_BYTES: "65536", LIVE_QUEUE_LIMIT: "1000" }, { logger: logs.logger });
  });
  afterAll(() => slow?.close());

  it("is dropped with a TCP reset: nothing it did not read stays queued for it in the server's kernel (no close handshake, no FIN-WAIT-1)", async () => {
    const adminToken = await apiToken(slow.httpUrl);
    const { port } = new URL(slow.httpUrl);
    // A WebSocket by hand on a raw socket, so the test decides when (not) to read.
    const socket = createConnection({ host: "127.0.0.1", port: Number(port) });
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let received = "";
    const onData = (chunk: Buffer) => (received += chunk.toString("latin1"));
    socket.on("data", onData);
    socket.write(
      [
        "GET /api/live HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        `Authorization: Bearer ${adminToken}`,
        "",
        "",
      ].join("\r\n"),
    );
    await waitFor(() => received.includes('"type":"hello"'), "the hello frame");
    socket.write(maskedTextFrame(JSON.stringify({ type: "subscribe", id: "all", filter: "devices/+/commands/#" })));
    await waitFor(() => received.includes('"type":"subscribed"'), "the subscription");
    // From here on the "browser" reads nothing.
    socket.off("data", onData);
    socket.pause();

    const operator = await mqtt.connectAsync(slow.mqttUrl, {
      clientId: "op:slow",
      username: "token",
      password: adminToken,
      reconnectPeriod: 0,
    });
    clients.push(operator);
    const payload = Buffer.alloc(100_000, 0x61);
    const dropped = logs.next("live channel: browser is not reading", undefined, 20_000);
    let stop = false;
    void dropped.then(() => (stop = true));
    for (let i = 0; i < 2_000 && !stop; i++) await operator.publishAsync("devices/slow-reader/commands/fill", payload, { qos: 0 });
    await dropped;

    // The server's side of the connection is gone from the kernel at once, with what it held:
    // a close frame would have queued behind it (ESTABLISHED, then FIN-WAIT-1 for minutes).
    const serverSide = () => kernelConnection(Number(port), socket.localPort as number);
    await waitFor(async () => (await serverSide()) === undefined, "the server's side of the connection to be released", 5_000).catch(
      async (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(await serverSide())}`);
      },
    );
    socket.destroy();
  });
});

/** A client-to-server WebSocket text frame, masked as RFC 6455 5.3 requires. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const length =
    payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x81]), length, mask, masked]);
}
