// The broker as real MQTT clients meet it: TCP and WebSocket transports, QoS 0/1/2,
// wildcards, retained messages and the Last Will.
//
// These tests are about generic MQTT semantics on arbitrary topics, so this server runs with
// MQTT_ALLOW_ANONYMOUS=true (full access without credentials). The same behaviours with
// registered devices and operators, under the access rules, are in broker-acl.test.ts and
// broker-sessions.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectTcp } from "node:net";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";

let server: TestServer;
const clients: MqttClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ MQTT_ALLOW_ANONYMOUS: "true" });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await server.close();
});

async function connect(options: IClientOptions = {}, url = server.mqttUrl): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  clients.push(client);
  return client;
}

/** Resolves with the next `count` messages the client receives. */
function nextMessages(client: MqttClient, count: number): Promise<{ topic: string; payload: string; retain: boolean; qos: number }[]> {
  return new Promise((resolve) => {
    const received: { topic: string; payload: string; retain: boolean; qos: number }[] = [];
    const onMessage = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      received.push({ topic, payload: payload.toString(), retain: packet.retain, qos: packet.qos });
      if (received.length === count) {
        client.off("message", onMessage);
        resolve(received);
      }
    };
    client.on("message", onMessage);
  });
}

describe("publish/subscribe through the broker", () => {
  for (const qos of [0, 1, 2] as const) {
    it(`delivers a QoS ${qos} message from one client to another over TCP`, async () => {
      const subscriber = await connect();
      await subscriber.subscribeAsync(`roundtrip/qos${qos}`, { qos });
      const publisher = await connect();
      const received = nextMessages(subscriber, 1);
      await publisher.publishAsync(`roundtrip/qos${qos}`, `hello ${qos}`, { qos });
      expect(await received).toEqual([{ topic: `roundtrip/qos${qos}`, payload: `hello ${qos}`, retain: false, qos }]);
    });
  }

  it("carries MQTT over WebSocket at /mqtt, interoperating with TCP clients", async () => {
    const wsSubscriber = await connect({}, server.wsUrl);
    await wsSubscriber.subscribeAsync("bridge/ws", { qos: 1 });
    const tcpPublisher = await connect();
    const received = nextMessages(wsSubscriber, 1);
    await tcpPublisher.publishAsync("bridge/ws", "over websocket", { qos: 1 });
    expect((await received)[0]?.payload).toBe("over websocket");
  });

  it("matches + to exactly one level and # to the rest [MQTT-4.7.1-2, MQTT-4.7.1-3]", async () => {
    const single = await connect();
    const multi = await connect();
    await single.subscribeAsync("plant/+/temp");
    await multi.subscribeAsync("plant/#");
    const publisher = await connect();
    const singleGot = nextMessages(single, 2);
    const multiGot = nextMessages(multi, 4);
    for (const topic of ["plant/a/temp", "plant/a/b/temp", "plant/b/temp", "plant"]) await publisher.publishAsync(topic, topic, { qos: 1 });
    expect((await singleGot).map((m) => m.topic)).toEqual(["plant/a/temp", "plant/b/temp"]);
    expect((await multiGot).map((m) => m.topic)).toEqual(["plant/a/temp", "plant/a/b/temp", "plant/b/temp", "plant"]);
  });
});

describe("retained messages", () => {
  it("delivers the last retained message to a subscriber that arrives later [MQTT-3.3.1-6]", async () => {
    const publisher = await connect();
    await publisher.publishAsync("retained/state", "first", { qos: 1, retain: true });
    await publisher.publishAsync("retained/state", "latest", { qos: 1, retain: true });
    const late = await connect();
    const received = nextMessages(late, 1);
    await late.subscribeAsync("retained/#", { qos: 1 });
    expect(await received).toEqual([{ topic: "retained/state", payload: "latest", retain: true, qos: 1 }]);
  });
});

describe("Last Will and Testament", () => {
  it("publishes the will when a client's socket drops without DISCONNECT [MQTT-3.1.2-8]", async () => {
    const watcher = await connect();
    await watcher.subscribeAsync("wills/#", { qos: 1 });
    const doomed = await connect({ will: { topic: "wills/doomed", payload: Buffer.from("offline"), qos: 1, retain: false } });
    const received = nextMessages(watcher, 1);
    doomed.stream.destroy(); // the network fails: no DISCONNECT packet
    expect(await received).toEqual([{ topic: "wills/doomed", payload: "offline", retain: false, qos: 1 }]);
  });

  it("discards the will on a clean DISCONNECT [MQTT-3.1.2-10]", async () => {
    const watcher = await connect();
    await watcher.subscribeAsync("wills/polite", { qos: 1 });
    const polite = await connect({ will: { topic: "wills/polite", payload: Buffer.from("offline"), qos: 1, retain: false } });
    const got: string[] = [];
    watcher.on("message", (_topic, payload) => got.push(payload.toString()));
    await polite.endAsync();
    // A marker published after the disconnect arrives after any will would have.
    const marker = await connect();
    const markerSeen = new Promise<void>((resolve) => watcher.on("message", (_t, p) => p.toString() === "marker" && resolve()));
    await marker.publishAsync("wills/polite", "marker", { qos: 1 });
    await markerSeen;
    expect(got).toEqual(["marker"]);
  });
});

describe("malformed input", () => {
  it("closes a socket that sends a malformed packet and keeps serving everyone else", async () => {
    const subscriber = await connect();
    await subscriber.subscribeAsync("still/alive", { qos: 1 });

    const raw = connectTcp(server.fleetwatch.ports.mqtt, "127.0.0.1");
    const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
    raw.on("error", () => {});
    // 0x00 is a reserved packet type [MQTT-2.2.1]; the bytes after it are junk.
    raw.write(Buffer.from([0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]));
    await closed;

    const publisher = await connect();
    const received = nextMessages(subscriber, 1);
    await publisher.publishAsync("still/alive", "yes", { qos: 1 });
    expect((await received)[0]?.payload).toBe("yes");
  });
});
