// The server as a process, started the way users start it: configuration errors, ports that
// are taken, and a graceful stop on SIGTERM.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import mqtt from "mqtt";
import { spawnServer, testAdmin } from "../../../test/support/fleetwatch.ts";
import { apiToken, registerDevice } from "../../../test/support/api.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { findFreePort, occupyPort } from "../../../test/support/network.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

describe("start-up errors", () => {
  it("stops with exit 1 and one line naming a bad variable", async () => {
    const server = spawnServer({ PORT: "eighty" });
    expect(await server.exited).toBe(1);
    expect(server.output().trim()).toBe('Configuration error: PORT must be a port number from 0 to 65535 (got "eighty")');
  });

  it.each([
    { variable: "MQTT_PORT", env: (taken: number) => ({ PORT: "0", MQTT_PORT: String(taken) }) },
    { variable: "PORT", env: (taken: number) => ({ PORT: String(taken), MQTT_PORT: "0" }) },
  ])("names the port that is taken and $variable, the variable that changes it", async ({ variable, env }) => {
    const taken = await occupyPort();
    try {
      const server = spawnServer({ DATABASE_URL: database.url, ...env(taken.port) });
      expect(await server.exited).toBe(1);
      expect(server.output()).toContain(`port ${taken.port} is already in use. Stop whatever holds it, or set ${variable} to a free port`);
    } finally {
      await taken.release();
    }
  });

  it("explains an unreachable database instead of crashing with a stack trace", async () => {
    const closedPort = await findFreePort();
    const server = spawnServer({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${closedPort}/nowhere`, PORT: "0", MQTT_PORT: "0" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/could not start: .*(ECONNREFUSED|connect|reach)/i);
  });

  it("explains an unreachable Redis (REDIS_URL) instead of hanging or crashing", async () => {
    const closedPort = await findFreePort();
    const server = spawnServer({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${closedPort}`, PORT: "0", MQTT_PORT: "0" });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(`REDIS_URL: could not connect to Redis at 127.0.0.1:${closedPort}`);
  });
});

describe("graceful shutdown", () => {
  it("on SIGTERM closes clients and exits 0", async () => {
    // Its own database: the first admin is created from ADMIN_EMAIL/ADMIN_PASSWORD on a first start.
    const fresh = await createTestDatabase();
    onTestFinished(() => fresh.drop());
    const [http, mqttPort] = [await findFreePort(), await findFreePort()];
    const server = spawnServer({
      DATABASE_URL: fresh.url,
      PORT: String(http),
      MQTT_PORT: String(mqttPort),
      ADMIN_EMAIL: testAdmin.email,
      ADMIN_PASSWORD: testAdmin.password,
    });
    await server.waitForOutput(/Fleetwatch is running/);
    expect((await fetch(`http://127.0.0.1:${http}/readyz`)).status).toBe(200);

    // A registered device, as a real sensor connects (the broker admits no anonymous clients).
    const baseUrl = `http://127.0.0.1:${http}`;
    const { credentials } = await registerDevice(baseUrl, await apiToken(baseUrl), { name: "Shutdown probe" });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, ...credentials });
    const clientClosed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    await clientClosed;
    expect(server.output()).toMatch(/stopped/);
    await expect(fetch(`http://127.0.0.1:${http}/healthz`)).rejects.toThrow();
  });
});
