// /readyz tells an orchestrator to take a node out of rotation when it cannot do its job,
// also while the database still answers: here ingest is stuck (a lock holds every write),
// so messages wait unacknowledged, and /readyz says so, with the reason, until they flow.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import pg from "pg";
import type { Readiness } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { waitFor } from "../../../test/support/wait.ts";

let server: TestServer;
let device: MqttClient;

beforeAll(async () => {
  // A commit may wait far longer than the threshold: the writer keeps waiting, /readyz reports it.
  server = await startTestServer({ INGEST_STUCK_AFTER_MS: "300", INGEST_COMMIT_TIMEOUT_MS: "60000" });
  await registerDevice(server.database.url, "stuck-1");
  device = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("stuck-1"));
});
afterAll(async () => {
  await device?.endAsync(true);
  await server?.close();
});

const readiness = async () => {
  const response = await fetch(`${server.httpUrl}/readyz`);
  return { status: response.status, body: (await response.json()) as Readiness };
};

describe("/readyz", () => {
  it("answers 503 with the reason while the oldest message waiting to be stored is older than INGEST_STUCK_AFTER_MS, and 200 once it is stored", async () => {
    expect((await readiness()).status).toBe(200);
    const blocker = new pg.Client({ connectionString: server.database.url });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      // Every insert into the message log waits for this lock; the database keeps answering.
      await blocker.query("LOCK TABLE messages IN SHARE MODE");
      const acknowledged = device.publishAsync("devices/stuck-1/telemetry", '{"v":1}', { qos: 1 });

      const stuck = await waitFor(async () => {
        const answer = await readiness();
        return answer.status === 503 && answer;
      }, "/readyz to report stuck ingest");
      expect(stuck.body.status).toBe("unavailable");
      expect(stuck.body.checks.database).toEqual({ ok: true });
      expect(stuck.body.checks.broker).toEqual({ ok: true });
      expect(stuck.body.checks.ingest.ok).toBe(false);
      expect(stuck.body.checks.ingest.detail).toMatch(
        /^ingest is stuck: the oldest message waiting to be stored has waited \d+\.\d s \(INGEST_STUCK_AFTER_MS: 300\)$/,
      );

      await blocker.query("COMMIT");
      await acknowledged;
      expect(await readiness()).toEqual({
        status: 200,
        body: { status: "ready", checks: { database: { ok: true }, broker: { ok: true }, ingest: { ok: true } } },
      });
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      await blocker.end();
    }
  });
});
