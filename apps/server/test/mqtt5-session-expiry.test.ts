// MQTT 5 Session Expiry Interval across a restart: the end of a session is kept in PostgreSQL
// and a sweep (on every node, at every start) ends the sessions whose time has come. aedes 2
// alone keeps that time in the memory of the node the client left, which a restart forgets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from "mqtt";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { adminQuery } from "../../../test/support/postgres.ts";

let database: TestDatabase;
const servers: TestServer[] = [];
const clients: MqttClient[] = [];
const env = { MQTT_SESSION_SWEEP_MS: "200" };

beforeAll(async () => {
  database = await createTestDatabase();
  for (const id of ["se-short", "se-long"]) await registerDevice(database.url, id);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  for (const server of servers) await server.close();
  await database.drop();
});

async function start(): Promise<TestServer> {
  const server = await startTestServer(env, { database });
  servers.push(server);
  return server;
}

async function connect(server: TestServer, id: string, options: IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(server.mqttUrl, deviceConnectOptions(id, { protocolVersion: 5, reconnectPeriod: 0, ...options }));
  clients.push(client);
  const connack = await new Promise<IConnackPacket>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
  });
  return { client, connack };
}

const expiryRow = async (clientId: string) =>
  (await adminQuery(database.url, "SELECT expires_at <= now() AS due FROM mqtt_session_expiry WHERE client_id = $1", [clientId]))
    .rows[0] as { due: boolean } | undefined;

describe("MQTT 5 session expiry survives a restart [MQTT-3.1.2-23]", () => {
  it("a session whose interval passed while no server ran is ended by the next server's sweep; a longer one is kept", async () => {
    const first = await start();
    for (const [id, seconds] of [
      ["se-short", 1],
      ["se-long", 3_600],
    ] as const) {
      const { client } = await connect(first, id, { clean: true, properties: { sessionExpiryInterval: seconds } });
      await client.subscribeAsync(`devices/${id}/commands/#`, { qos: 1 });
      await client.endAsync();
      await expect.poll(() => expiryRow(id)).toBeDefined();
    }
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    // No server runs while the short session's time passes (PostgreSQL's clock decides).
    await expect.poll(() => expiryRow("se-short"), { timeout: 10_000, interval: 200 }).toEqual({ due: true });

    const second = await start();
    await expect.poll(() => expiryRow("se-short"), { timeout: 10_000 }).toBeUndefined();
    const { connack: ended } = await connect(second, "se-short", { clean: false, properties: { sessionExpiryInterval: 1 } });
    expect(ended.sessionPresent).toBe(false);
    const { connack: kept } = await connect(second, "se-long", { clean: false, properties: { sessionExpiryInterval: 3_600 } });
    expect(kept.sessionPresent).toBe(true);
    // Connected again: its session no longer ends by itself [MQTT-3.1.2-23 counts from the disconnect].
    expect(await expiryRow("se-long")).toBeUndefined();
  });
});
