// Retained state and persistent sessions survive a restart: the server is killed (SIGKILL,
// nothing flushed on the way out) and a new server process starts on the same database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient, type IClientOptions } from "mqtt";
import { PrismaClient, PrismaPg } from "@fleetwatch/prisma";
import { spawnServer, testAdmin, type ServerProcess } from "../../../test/support/fleetwatch.ts";
import { apiToken } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { findFreePort } from "../../../test/support/network.ts";

let database: TestDatabase;
let prisma: PrismaClient;
const clients: MqttClient[] = [];
const servers: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: database.url }) });
  await registerDevice(database.url, "thermo-1", "Thermostat 1");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  for (const server of servers) if (server.child.exitCode === null) server.child.kill("SIGKILL");
  await prisma.$disconnect();
  await database.drop();
});

async function startServer(): Promise<{ mqttUrl: string; httpUrl: string; process: ServerProcess }> {
  const [http, mqttPort] = [await findFreePort(), await findFreePort()];
  const server = spawnServer({
    DATABASE_URL: database.url,
    ADMIN_EMAIL: testAdmin.email,
    ADMIN_PASSWORD: testAdmin.password,
    PORT: String(http),
    MQTT_PORT: String(mqttPort),
  });
  servers.push(server);
  await server.waitForOutput(/Fleetwatch is running/);
  return { mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, httpUrl: `http://127.0.0.1:${http}`, process: server };
}

async function connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  clients.push(client);
  return client;
}

function nextMessage(client: MqttClient): Promise<{ topic: string; payload: string; qos: number; retain: boolean }> {
  return new Promise((resolve) =>
    client.once("message", (topic, payload, packet) =>
      resolve({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
    ),
  );
}

describe("after the server is killed and a new one starts on the same database", () => {
  it("a late subscriber gets the retained state, and an offline device's queued QoS 1 command arrives when it reconnects", async () => {
    const first = await startServer();

    // The device has a persistent session with a subscription to its commands, and leaves.
    const device = await connect(first.mqttUrl, deviceConnectOptions("thermo-1", { clean: false }));
    await device.subscribeAsync("devices/thermo-1/commands/#", { qos: 1 });
    await device.publishAsync("devices/thermo-1/state", JSON.stringify({ mode: "eco", setpoint: 19.5 }), { qos: 1, retain: true });
    await device.endAsync();
    // Once the server has recorded the device offline, its connection and live subscription
    // are gone: a command sent now can only be queued (sent earlier, it would still reach
    // the device on its closing connection, as MQTT allows).
    await expect
      .poll(() => prisma.$queryRaw<{ offline_reason: string }[]>`SELECT offline_reason FROM device_presence WHERE device_id = 'thermo-1'`)
      .toEqual([{ offline_reason: "disconnected" }]);

    // While it is away, an admin operator sends a command with an API token (kept in the
    // database, so it also holds for the second server); the PUBACK means the broker has it.
    const token = await apiToken(first.httpUrl);
    const operator = await connect(first.mqttUrl, { clientId: "operator:console", username: "token", password: token });
    await operator.publishAsync("devices/thermo-1/commands/reboot", "now", { qos: 1 });
    // aedes 1.2 sends the PUBACK of a QoS 1 PUBLISH before it hands the message to the
    // persistence (lib/handlers/publish.js), so the kill waits until the queue holds it.
    await expect
      .poll(() => prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM mqtt_outgoing WHERE client_id = 'thermo-1'`)
      .toEqual([{ n: 1 }]);

    first.process.child.kill("SIGKILL");
    expect(await first.process.exited).toBe("SIGKILL");

    const second = await startServer();

    const late = await connect(second.mqttUrl, { clientId: "operator:late-viewer", username: "token", password: token });
    const retained = nextMessage(late);
    await late.subscribeAsync("devices/+/state", { qos: 1 });
    expect(await retained).toEqual({ topic: "devices/thermo-1/state", payload: '{"mode":"eco","setpoint":19.5}', qos: 1, retain: true });

    const state = await fetch(`${second.httpUrl}/api/devices/thermo-1/state`, { headers: { authorization: `Bearer ${token}` } });
    expect(state.status).toBe(200);
    expect(await state.json()).toMatchObject({
      deviceId: "thermo-1",
      retained: [{ topic: "devices/thermo-1/state", subtopic: "state", format: "json", payload: { mode: "eco", setpoint: 19.5 } }],
    });

    // [MQTT-3.2.2-2] the session is still there, subscription and queue included.
    const returning = mqtt.connect(second.mqttUrl, deviceConnectOptions("thermo-1", { clean: false }));
    clients.push(returning);
    const command = nextMessage(returning);
    const connack = await new Promise<mqtt.IConnackPacket>((resolve) => returning.once("connect", resolve));
    expect(connack.sessionPresent).toBe(true);
    expect(await command).toEqual({ topic: "devices/thermo-1/commands/reboot", payload: "now", qos: 1, retain: false });

    second.process.child.kill("SIGTERM");
    expect(await second.process.exited).toBe(0);
  });
});
