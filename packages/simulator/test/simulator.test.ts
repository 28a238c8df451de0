// The simulator against a real Fleetwatch: devices connect with their own client ids, set
// their Last Will, keep retained state, and their telemetry arrives in the contracts' format.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import { deviceTopic, parseDeviceTopic, parseTelemetry } from "@fleetwatch/contracts";
import { startTestServer, testAdmin, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken } from "../../../test/support/api.ts";
import { memorySecretStore, parseOptions, runSimulation, type Fleet } from "../src/index.ts";
import { waitFor } from "../../../test/support/wait.ts";

let server: TestServer;
/** An operator's API token: the observers below sign in to MQTT with it (user name "token"). */
let operatorToken: string;
const clients: MqttClient[] = [];
/** The simulator registers its devices through the API as the test server's first admin. */
const asAdmin = ["--admin-email", testAdmin.email, "--admin-password", testAdmin.password];

beforeAll(async () => {
  server = await startTestServer();
  operatorToken = await apiToken(server.httpUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
});

async function observe(filters: string[]) {
  const client = await mqtt.connectAsync(server.mqttUrl, { reconnectPeriod: 0, username: "token", password: operatorToken });
  clients.push(client);
  const messages: { topic: string; payload: string; retain: boolean }[] = [];
  client.on("message", (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(filters, { qos: 1 });
  return messages;
}

describe("simulated fleet against a real server", () => {
  it("connects every device with its own client id, publishes telemetry, state and presence, and a dropped device's will marks it offline", async () => {
    const connectedIds = new Set<string>();
    server.fleetwatch.broker.on("client", (client) => connectedIds.add(client.id));
    const live = await observe(["devices/+/telemetry", "devices/+/status"]);

    let fleet: Fleet | undefined;
    const options = parseOptions([
      "--devices",
      "5",
      "--rate",
      "5",
      "--qos",
      "1",
      "--duration",
      "3",
      "--prefix",
      "itest",
      "--url",
      server.httpUrl,
      "--mqtt-url",
      server.mqttUrl,
      "--provider",
      "api",
      ...asAdmin,
      "--progress-interval",
      "1",
    ]);
    const lines: string[] = [];
    const run = runSimulation(options, { secrets: memorySecretStore(), log: (line) => lines.push(line), onFleet: (f) => (fleet = f) });

    const ids = ["itest-0001", "itest-0002", "itest-0003", "itest-0004", "itest-0005"];
    await waitFor(() => ids.every((id) => connectedIds.has(id)), "all five devices to connect");
    // A device drops off without DISCONNECT: the broker publishes its will [MQTT-3.1.2-8].
    await waitFor(() => live.some((m) => m.topic === deviceTopic.telemetry("itest-0001")), "telemetry from itest-0001");
    fleet!.drop("itest-0001", Infinity);
    const result = await run;

    // The goodbyes of the run's end may still be in flight when it resolves: wait for them (bounded).
    const sawStatus = (id: string, online: boolean) =>
      live.some((m) => m.topic === deviceTopic.status(id) && m.payload === JSON.stringify({ online }));
    await waitFor(() => ids.every((id) => sawStatus(id, true) && sawStatus(id, false)), "every device's online and offline status");
    const statuses = live.filter((m) => parseDeviceTopic(m.topic)?.channel === "status");
    for (const id of ids) expect(statuses).toContainEqual({ topic: deviceTopic.status(id), payload: '{"online":true}', retain: false });
    expect(statuses).toContainEqual({ topic: deviceTopic.status("itest-0001"), payload: '{"online":false}', retain: false });

    const telemetry = live.filter((m) => parseDeviceTopic(m.topic)?.channel === "telemetry");
    expect(new Set(telemetry.map((m) => parseDeviceTopic(m.topic)?.deviceId))).toEqual(new Set(ids));
    for (const message of telemetry) {
      const parsed = parseTelemetry(message.payload, new Date());
      expect(parsed.ok && parsed.readings.map((r) => r.metric)).toEqual(["temperature", "humidity", "battery", "rssi"]);
    }

    expect(result.provider).toBe("api");
    expect(result.counters.drops).toBe(1);
    expect(result.counters.acked).toBeGreaterThan(0);
    expect(result.counters.errors).toBe(0);
    expect(lines.some((line) => /connected \d+\/5 · sent \d+ · acked \d+ · errors 0/.test(line))).toBe(true);

    // Retained documents outlive the run: a late subscriber gets every device's state and status.
    const late = await observe(["devices/+/state", "devices/+/status"]);
    await waitFor(() => late.length >= 10, "retained state and status of five devices");
    for (const id of ids) {
      const state = late.find((m) => m.topic === deviceTopic.state(id));
      expect(state?.retain).toBe(true);
      expect(JSON.parse(state!.payload)).toMatchObject({
        firmware: expect.any(String),
        battery: expect.any(Number),
        online: expect.any(Boolean),
      });
    }
    // The dropped device's retained status is its will; the others said goodbye when the run ended.
    for (const id of ids) expect(late).toContainEqual({ topic: deviceTopic.status(id), payload: '{"online":false}', retain: true });
  });

  it("runs over MQTT over WebSocket with the endpoint derived from --url", async () => {
    const live = await observe(["devices/wsim-0001/telemetry"]);
    const options = parseOptions([
      "--devices",
      "1",
      "--rate",
      "10",
      "--duration",
      "1.5",
      "--prefix",
      "wsim",
      "--url",
      server.httpUrl,
      "--transport",
      "ws",
      "--provider",
      "auto",
      ...asAdmin,
    ]);
    const result = await runSimulation(options, { secrets: memorySecretStore(), log: () => {} });
    expect(result.brokerUrl).toBe(`${server.httpUrl.replace("http", "ws")}/mqtt`);
    expect(live.length).toBeGreaterThan(0);
  });
});

describe("simulate CLI", () => {
  const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
  const runCli = (args: string[]) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ["--conditions=@fleetwatch/source", "--import", "tsx", cli, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.once("exit", (code) => resolve({ code, output }));
    });

  it("refuses a bad option with one clear line and exit code 2", async () => {
    const { code, output } = await runCli(["--qos", "5"]);
    expect(code).toBe(2);
    expect(output).toContain('simulate: --qos must be one of 0, 1, 2 (got "5")');
  });

  it("prints progress lines while it runs and exits 0 at the end of --duration", async () => {
    const { code, output } = await runCli([
      "--devices",
      "3",
      "--rate",
      "2",
      "--duration",
      "2",
      "--progress-interval",
      "0.5",
      "--prefix",
      "clisim",
      "--url",
      server.httpUrl,
      "--mqtt-url",
      server.mqttUrl,
      "--provider",
      "api",
      ...asAdmin,
    ]);
    expect(output).toMatch(/connected 3\/3 · sent \d+ · acked \d+ · errors 0/);
    expect(code).toBe(0);
  });
});
