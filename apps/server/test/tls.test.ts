import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));

describe("MQTT over TLS", () => {
  let server: TestServer;
  beforeAll(async () => {
    // Anonymous access: this test is about the transport, not about who may use it.
    server = await startTestServer({
      MQTT_TLS_CERT: fixture("cert.pem"),
      MQTT_TLS_KEY: fixture("key.pem"),
      MQTTS_PORT: "0",
      MQTT_ALLOW_ANONYMOUS: "true",
    });
  });
  afterAll(() => server.close());

  it("serves MQTTS on MQTTS_PORT when a certificate and key are configured", async () => {
    const port = server.fleetwatch.ports.mqtts;
    expect(port).toBeGreaterThan(0);
    const client = await mqtt.connectAsync(`mqtts://localhost:${port}`, { ca: readFileSync(fixture("cert.pem")), reconnectPeriod: 0 });
    try {
      await client.subscribeAsync("tls/echo", { qos: 1 });
      const received = new Promise<string>((resolve) => client.once("message", (_t, payload) => resolve(payload.toString())));
      await client.publishAsync("tls/echo", "secure", { qos: 1 });
      expect(await received).toBe("secure");
    } finally {
      await client.endAsync();
    }
  });

  it("does not serve MQTTS without a certificate", async () => {
    const plain = await startTestServer();
    try {
      expect(plain.fleetwatch.ports.mqtts).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
