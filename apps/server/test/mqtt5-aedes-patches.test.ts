// Each of our aedes 2.0.0-beta.1 patches (patches/aedes@2.0.0-beta.1.patch), proven through the
// real server with real clients: each test fails on the unpatched beta. The clean-session
// QoS 2 discard [MQTT-3.1.2-6] is proven by ingest.test.ts ("discards a client's QoS 2 keys
// when it starts a clean session"), the topic alias across nodes by multi-node.test.ts, the
// delayWill option (delayed wills handed to PostgreSQL) by mqtt5-will-delay.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, registerDevice } from "../../../test/support/api.ts";
import { connectClient } from "../../../test/support/mqtt.ts";
import { connectRaw, qos2Publish } from "../../../test/support/raw-mqtt.ts";

let server: TestServer;
let adminToken: string;
const secrets: Record<string, string> = {};
const clients: MqttClient[] = [];
const port = () => Number(new URL(server.mqttUrl).port);

beforeAll(async () => {
  // The receive-window test sends 1,001 QoS 2 messages at once: above any publish rate limit.
  server = await startTestServer({ MQTT_PUBLISH_RATE: "100000", MQTT_PUBLISH_BURST: "100000" });
  adminToken = await apiToken(server.httpUrl);
  for (const id of ["pubrel-twice", "window-v3", "window-v5"])
    secrets[id] = (await registerDevice(server.httpUrl, adminToken, { name: id, id })).credentials.password;
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
});

const operator = (clientId: string, protocolVersion: 4 | 5) => ({ clientId, username: "token", password: adminToken, protocolVersion });

describe("GHSA-52qw-whmv-87c5 (maps keyed by wire strings are prototype-free)", () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 5 ? "5" : "3.1.1"}: clientIds and filters named after Object.prototype members connect, subscribe and receive`, async () => {
      // Unpatched, `broker.clients.constructor` is Object's constructor: registering the client
      // "takes over" a function and throws; a filter "constructor" finds an inherited "subscription".
      for (const clientId of ["constructor", "__proto__", "hasOwnProperty"]) {
        const client = await connectClient(server.mqttUrl, operator(clientId, protocolVersion), clients);
        const granted = await client.subscribeAsync(["constructor", "__proto__/x"], { qos: 1 });
        expect(granted.map((grant) => grant.qos)).toEqual([1, 1]);
        const received = new Promise<string>((resolve) => client.once("message", (topic) => resolve(topic)));
        // (Operators may only publish commands: the broker itself publishes the message.)
        server.fleetwatch.broker.publish(
          { cmd: "publish", topic: "constructor", payload: Buffer.from("x"), qos: 0, retain: false, dup: false },
          () => undefined,
        );
        expect(await received).toBe("constructor");
        await client.endAsync();
      }
    });
  }
});

describe("a duplicate PUBREL (aedes 1.2's fix, lost in the beta)", () => {
  it("two PUBRELs for one QoS 2 message in one segment: both get PUBCOMP, no unhandled rejection, the connection stays [MQTT-4.3.3-11]", async () => {
    const raw = await connectRaw(port(), "pubrel-twice", { clean: true, username: "pubrel-twice", password: secrets["pubrel-twice"]! });
    raw.send(qos2Publish("devices/pubrel-twice/telemetry", 7, '{"t":1}'));
    expect(await raw.next("pubrec")).toMatchObject({ messageId: 7 });
    // Both handlers find the stored packet; the loser's delete rejects. Unpatched, that
    // rejection escapes `.finally()` unhandled (vitest fails the run; Node ends the process).
    const pubrel = Buffer.from([0x62, 0x02, 0x00, 0x07]);
    raw.sendBytes(Buffer.concat([pubrel, pubrel]));
    expect(await raw.next("pubcomp")).toMatchObject({ messageId: 7 });
    expect(await raw.next("pubcomp")).toMatchObject({ messageId: 7 });
    raw.send(qos2Publish("devices/pubrel-twice/telemetry", 8, '{"t":2}'));
    expect(await raw.next("pubrec")).toMatchObject({ messageId: 8 });
    expect(raw.isClosed()).toBe(false);
    raw.close();
  });
});

describe("the inbound QoS 2 receive window (maxInflightInbound, aedes 1.2's bound, lost in the beta)", () => {
  const burst = (topic: string, count: number) => Array.from({ length: count }, (_, i) => qos2Publish(topic, i + 1, `{"n":${i}}`));

  it("MQTT 3.1.1: the 1,001st QoS 2 message awaiting PUBREL closes the connection, having stored no more than 1,000", async () => {
    const raw = await connectRaw(port(), "window-v3", { clean: true, username: "window-v3", password: secrets["window-v3"]! });
    for (const packet of burst("devices/window-v3/telemetry", 1001)) raw.send(packet);
    await raw.closed;
    const { rows } = await server.fleetwatch.database.pool.query<{ count: string }>(
      "SELECT count(*) FROM mqtt_incoming WHERE client_id = $1",
      ["window-v3"],
    );
    expect(Number(rows[0]!.count)).toBeLessThanOrEqual(1000);
  });

  it("MQTT 5: the 1,001st gets DISCONNECT 0x93 Receive Maximum exceeded [MQTT-3.3.4-9]", async () => {
    const raw = await connectRaw(port(), "window-v5", {
      clean: true,
      username: "window-v5",
      password: secrets["window-v5"]!,
      protocolVersion: 5,
    });
    for (const packet of burst("devices/window-v5/telemetry", 1001)) raw.send(packet);
    expect(await raw.next("disconnect", 30_000)).toMatchObject({ reasonCode: 0x93 });
    await raw.closed;
  });
});
