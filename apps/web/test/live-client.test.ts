// The dashboard's live client against a real Fleetwatch server: real WebSocket (the `ws`
// package standing in for the browser's), real MQTT devices over TCP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import WebSocket from "ws";
import type { PlatformEvent } from "@fleetwatch/contracts";
import { LiveClient, type LiveSocket, type LiveStatus, type MessageBatch } from "../src/lib/live/live-client.ts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, registerDevice } from "../../../test/support/api.ts";
import { waitFor } from "../../../test/support/wait.ts";

let server: TestServer;
let token: string;
let sockets: WebSocket[];

function client(): LiveClient {
  return new LiveClient({
    url: () => `${server.httpUrl.replace("http", "ws")}/api/live`,
    createSocket: (url) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      sockets.push(socket);
      return socket as unknown as LiveSocket;
    },
  });
}

async function connectDevice(id: string, password: string, options: mqtt.IClientOptions = {}) {
  const device = await mqtt.connectAsync(server.mqttUrl, { clientId: id, username: id, password, reconnectPeriod: 0, ...options });
  return device;
}

beforeAll(async () => {
  server = await startTestServer();
  token = await apiToken(server.httpUrl);
});
afterAll(async () => server?.close());

describe("live client", () => {
  it("shares one server subscription per filter and delivers each message to every listener of it", async () => {
    sockets = [];
    const live = client();
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Shared", id: "live-shared" });
    const first: MessageBatch[] = [];
    const second: MessageBatch[] = [];
    const stopFirst = live.subscribe("devices/+/telemetry", (batch) => first.push(batch));
    const stopSecond = live.subscribe("devices/+/telemetry", (batch) => second.push(batch));
    await waitFor(() => (live.currentStatus === "open" ? true : undefined), "the socket to open");

    const device = await connectDevice("live-shared", credentials.password);
    // The subscribe frame races the publish; publish until the first message arrives.
    await waitFor(() => {
      if (first.length > 0) return true;
      void device.publishAsync("devices/live-shared/telemetry", '{"t":1}', { qos: 1 });
      return undefined;
    }, "the first message");
    await waitFor(() => (second.length > 0 ? true : undefined), "the second listener's message");
    expect(first[0]?.messages[0]?.topic).toBe("devices/live-shared/telemetry");
    expect(second[0]?.messages[0]?.payload).toBe('{"t":1}');
    expect(sockets).toHaveLength(1);

    stopFirst();
    stopSecond();
    await device.endAsync();
  });

  it("reconnects after the socket drops and subscribes again, so messages keep arriving, and asks pages to resync each time it opens", async () => {
    sockets = [];
    const live = client();
    let resyncs = 0;
    live.onResync(() => resyncs++);
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Reconnect", id: "live-reconnect" });
    const statuses: LiveStatus[] = [];
    live.onStatus((status) => statuses.push(status));
    const received: string[] = [];
    const stop = live.subscribe("devices/live-reconnect/#", (batch) => received.push(...batch.messages.map((message) => message.payload)));
    await waitFor(() => (live.currentStatus === "open" ? true : undefined), "the socket to open");

    expect(resyncs).toBe(1); // the first open: events before it were not seen
    sockets[0]?.terminate(); // no close handshake: as a network failure looks
    await waitFor(() => (statuses.includes("reconnecting") ? true : undefined), "the client to notice the drop");
    await waitFor(() => (live.currentStatus === "open" && sockets.length === 2 ? true : undefined), "a second socket to open");
    expect(resyncs).toBe(2);

    const device = await connectDevice("live-reconnect", credentials.password);
    await waitFor(() => {
      if (received.includes("after")) return true;
      void device.publishAsync("devices/live-reconnect/telemetry", "after", { qos: 1 });
      return undefined;
    }, "a message on the new socket");
    stop();
    await device.endAsync();
  });

  it("passes platform events (presence) to event listeners, and reports a refused filter to its listener", async () => {
    sockets = [];
    const live = client();
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Events", id: "live-events" });
    const events: PlatformEvent[] = [];
    const stopEvents = live.onEvents((batch) => events.push(...batch));
    const errors: string[] = [];
    const stopBad = live.subscribe(
      "devices/#/oops",
      () => {},
      (message) => errors.push(message),
    );
    await waitFor(() => (live.currentStatus === "open" ? true : undefined), "the socket to open");
    await waitFor(() => (errors.length > 0 ? true : undefined), "the refused filter's error");
    expect(errors[0]).toContain("not a valid MQTT topic filter");

    const device = await connectDevice("live-events", credentials.password);
    const online = await waitFor(
      () => events.find((event) => event.kind === "presence" && event.deviceId === "live-events" && event.online),
      "the device's presence event",
    );
    expect(online.kind).toBe("presence");
    stopEvents();
    stopBad();
    await device.endAsync();
  });

  it("closes its socket a while after the last listener leaves", async () => {
    sockets = [];
    const live = client();
    const stop = live.subscribe("devices/+/status", () => {});
    await waitFor(() => (live.currentStatus === "open" ? true : undefined), "the socket to open");
    stop();
    await waitFor(() => (live.currentStatus === "idle" ? true : undefined), "the idle close", 15_000);
    await waitFor(() => (sockets[0]?.readyState === WebSocket.CLOSED ? true : undefined), "the socket to close");
  });
});
