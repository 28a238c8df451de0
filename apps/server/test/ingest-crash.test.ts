// Nothing acknowledged is ever lost, even when the server process is killed outright, and
// QoS 2 messages are stored once even when the device resends them after the restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { spawnServer, type ServerProcess } from "../../../test/support/fleetwatch.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { findFreePort } from "../../../test/support/network.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { deviceConnectOptions, deviceCredentials, registerDevice } from "../../../test/support/devices.ts";
import { connectRaw, qos2Publish } from "../../../test/support/raw-mqtt.ts";
import { rollupMismatches } from "../../../test/support/rollups.ts";
import { waitFor } from "../../../test/support/wait.ts";

let database: TestDatabase;
let mqttPort: number;
const servers: ServerProcess[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  mqttPort = await findFreePort();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  for (const server of servers) server.child.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.exited));
  await database.drop();
});

async function startServer(): Promise<ServerProcess> {
  // One server at a time owns the MQTT port.
  for (const running of servers.splice(0)) {
    running.child.kill("SIGKILL");
    await running.exited;
  }
  // The devices publish as fast as acks allow: lift the per-device rate limit, which is not under test here.
  const server = spawnServer({
    DATABASE_URL: database.url,
    PORT: "0",
    MQTT_PORT: String(mqttPort),
    MQTT_PUBLISH_RATE: "1000000",
    MQTT_PUBLISH_BURST: "1000000",
  });
  servers.push(server);
  await server.waitForOutput(/Fleetwatch is running/);
  return server;
}

/**
 * Publishes numbered messages with up to `window` in flight, recording each sequence number
 * whose acknowledgement arrived (PUBACK for QoS 1, PUBCOMP for QoS 2), until stopped.
 */
function pump(client: MqttClient, deviceId: string, qos: 1 | 2, window = 20) {
  const acked = new Set<number>();
  const sent = new Set<number>();
  let next = 0;
  let stopped = false;
  let inFlight = 0;
  const idle: (() => void)[] = [];
  const send = () => {
    while (!stopped && inFlight < window) {
      const seq = next++;
      inFlight++;
      sent.add(seq);
      client.publish(`devices/${deviceId}/telemetry`, JSON.stringify({ seq }), { qos }, (error) => {
        inFlight--;
        if (!error) acked.add(seq);
        if (inFlight === 0) idle.splice(0).forEach((resolve) => resolve());
        send();
      });
    }
  };
  send();
  return {
    acked,
    sent,
    stop: () => void (stopped = true),
    /** Resolves when every message sent so far has completed (or failed). */
    drained: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
  };
}

async function storedSeqs(deviceId: string): Promise<number[]> {
  const { rows } = await adminQuery(
    database.url,
    "SELECT convert_from(payload, 'UTF8')::json->>'seq' AS seq FROM messages WHERE device_id = $1",
    [deviceId],
  );
  return rows.map((r: { seq: string }) => Number(r.seq));
}

describe("a server killed with SIGKILL mid-ingest", () => {
  it(
    "has stored every QoS 1 message it acknowledged, and every QoS 2 message exactly once after the device resends",
    { timeout: 120_000 },
    async () => {
      await registerDevice(database.url, "crash-q1");
      await registerDevice(database.url, "crash-q2");
      const first = await startServer();
      const url = `mqtt://127.0.0.1:${mqttPort}`;
      const q1 = await mqtt.connectAsync(url, deviceConnectOptions("crash-q1"));
      // A persistent session that reconnects on its own: after the restart mqtt.js resends
      // the PUBLISH of every QoS 2 message without PUBREC, and the PUBREL of those with one.
      const q2 = await mqtt.connectAsync(url, deviceConnectOptions("crash-q2", { clean: false, reconnectPeriod: 200 }));
      clients.push(q1, q2);
      const atLeastOnce = pump(q1, "crash-q1", 1);
      const exactlyOnce = pump(q2, "crash-q2", 2);

      await waitFor(() => atLeastOnce.acked.size >= 300 && exactlyOnce.acked.size >= 150, "acknowledgements before the crash", 20_000);
      first.child.kill("SIGKILL");
      expect(await first.exited).toBe("SIGKILL");
      atLeastOnce.stop();
      exactlyOnce.stop();
      const ackedBeforeCrash = new Set(atLeastOnce.acked);

      await startServer();
      const q1Stored = await storedSeqs("crash-q1");
      const missing = [...ackedBeforeCrash].filter((seq) => !q1Stored.includes(seq));
      expect(missing).toEqual([]);

      // The QoS 2 device reconnects and completes every flow it had in flight.
      await exactlyOnce.drained();
      expect(exactlyOnce.acked.size).toBe(exactlyOnce.sent.size);
      const q2Stored = await storedSeqs("crash-q2");
      expect(q2Stored.length).toBe(new Set(q2Stored).size); // no message twice
      expect(new Set(q2Stored)).toEqual(exactlyOnce.sent); // and none lost
      // The pulse's rollups count exactly what the log holds: batches cut off by the kill counted nowhere.
      expect(await rollupMismatches(database.url)).toEqual([]);
    },
  );

  it(
    "stores a QoS 2 message once when the device resends it after the restart, its PUBREC lost in the crash [MQTT-4.3.3-2]",
    { timeout: 120_000 },
    async () => {
      await registerDevice(database.url, "crash-raw");
      const topic = "devices/crash-raw/telemetry";
      const server = await startServer();
      const before = await connectRaw(mqttPort, "crash-raw", { clean: false, ...deviceCredentials("crash-raw") });
      before.send(qos2Publish(topic, 11, '{"seq":11}'));
      // Committed before the PUBREC is sent; the device never reads it (as if it died in the crash).
      await before.next("pubrec");
      server.child.kill("SIGKILL");
      await server.exited;
      before.close();

      await startServer();
      const after = await connectRaw(mqttPort, "crash-raw", { clean: false, ...deviceCredentials("crash-raw") });
      after.send(qos2Publish(topic, 11, '{"seq":11}', true));
      await after.next("pubrec");
      after.send({ cmd: "pubrel", messageId: 11 });
      await after.next("pubcomp");
      after.close();
      expect(await storedSeqs("crash-raw")).toEqual([11]);
    },
  );
});
