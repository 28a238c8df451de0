// The register-a-device wizard's snippets (apps/web/src/features/register-device/snippets.ts)
// run for real: the mosquitto_pub lines (MQTT 3.1.1 and 5) through /bin/sh and the MQTT.js
// programs through Node, with the credentials and endpoints POST /api/devices answered,
// against a server on ephemeral ports; each message must land in the message log and as
// readings (an MQTT 5 one with its properties).
import { execFile, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceWithCredentials, LoggedMessage } from "@fleetwatch/contracts";
import { deviceTopic } from "@fleetwatch/contracts";
import {
  buildSnippets,
  examplePayload,
  mosquittoPubCommand,
  mosquittoPubV5Command,
  type SnippetTarget,
} from "../../web/src/features/register-device/snippets.ts";
import { hashSecret, scryptCost } from "../src/security/secrets.ts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { adminQuery } from "../../../test/support/postgres.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
// A fresh machine may lack the Mosquitto clients (apt-get install mosquitto-clients);
// .ci/run installs them, so CI always runs the mosquitto_pub tests.
const hasMosquittoPub = spawnSync("sh", ["-c", "command -v mosquitto_pub"]).status === 0;

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = await apiToken(server.httpUrl);
});
afterAll(async () => server?.close());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program, feeding `input` on stdin; resolves with its exit code and output. */
function run(file: string, args: string[], input = "", cwd = repoRoot): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`${file} could not run: ${error.message}`));
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

const targetOf = (issued: DeviceWithCredentials): SnippetTarget => ({
  deviceId: issued.device.id,
  credentials: issued.credentials,
  endpoints: issued.endpoints,
});

const loggedTelemetry = async (deviceId: string): Promise<LoggedMessage[]> => {
  const reply = await call<{ messages: LoggedMessage[] }>(
    server.httpUrl,
    "GET",
    `/api/messages?topic=${encodeURIComponent(deviceTopic.telemetry(deviceId))}`,
    { token },
  );
  expect(reply.status).toBe(200);
  return reply.body.messages;
};

const metricsOf = async (deviceId: string) => {
  const reply = await call<{ metrics: { metric: string; lastValue: number }[] }>(
    server.httpUrl,
    "GET",
    `/api/devices/${deviceId}/metrics`,
    { token },
  );
  return reply.status === 200 ? reply.body.metrics.map(({ metric, lastValue }) => [metric, lastValue]).sort() : reply.status;
};

describe("register-device snippets against a real server", () => {
  it.skipIf(!hasMosquittoPub)(
    "the mosquitto_pub line, run by /bin/sh with the credentials the API issued, stores the telemetry message and its readings",
    async () => {
      const issued = await registerDevice(server.httpUrl, token, { name: "Snippet boiler", id: "snippet-boiler" });
      expect(issued.endpoints.mqtt).toBe(`mqtt://127.0.0.1:${server.fleetwatch.ports.mqtt}`);

      const result = await run("/bin/sh", ["-c", mosquittoPubCommand(targetOf(issued))]);
      expect(result, result.stderr).toMatchObject({ code: 0 });

      await expect
        .poll(async () => (await loggedTelemetry("snippet-boiler")).map((m) => m.payload), { timeout: 10_000 })
        .toEqual([examplePayload]);
      await expect
        .poll(() => metricsOf("snippet-boiler"), { timeout: 10_000 })
        .toEqual([
          ["humidity", 40],
          ["temperature", 21.5],
        ]);
    },
  );

  it.skipIf(!hasMosquittoPub)(
    "a password full of shell metacharacters reaches the broker intact through the quoted command line",
    async () => {
      // The API issues URL-safe secrets; a device registered with a hostile one (straight in the
      // registry) proves the quoting itself, not the luck of the alphabet.
      const password = `p'a"s$s \`w\\o(r)d; $(exit 3) & *`;
      await adminQuery(server.database.url, "INSERT INTO devices (id, name, secret_hash, updated_at) VALUES ($1, $1, $2, now())", [
        "snippet-quoted",
        await hashSecret(password, scryptCost.deviceSecret),
      ]);
      const target: SnippetTarget = {
        deviceId: "snippet-quoted",
        credentials: { clientId: "snippet-quoted", username: "snippet-quoted", password },
        endpoints: { mqtt: server.mqttUrl, ws: server.wsUrl },
      };

      const result = await run("/bin/sh", ["-c", mosquittoPubCommand(target)]);
      expect(result, result.stderr).toMatchObject({ code: 0 });
      await expect.poll(async () => (await loggedTelemetry("snippet-quoted")).length, { timeout: 10_000 }).toBe(1);

      // A wrong password is refused, so the success above was the password getting through.
      const wrong = await run("/bin/sh", [
        "-c",
        mosquittoPubCommand({ ...target, credentials: { ...target.credentials, password: `${password}x` } }),
      ]);
      expect(wrong.code).not.toBe(0);
    },
  );

  it("the MQTT.js program, run by Node, publishes the same telemetry and exits", async () => {
    const issued = await registerDevice(server.httpUrl, token, { name: "Snippet node", id: "snippet-node" });
    const program = buildSnippets(targetOf(issued)).find((snippet) => snippet.id === "mqttjs")?.code ?? "";

    // ESM from stdin resolves `import mqtt from "mqtt"` from the working directory: the repo's own mqtt.
    const result = await run(process.execPath, ["--input-type=module", "-"], program);
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
    await expect
      .poll(async () => (await loggedTelemetry("snippet-node")).map((m) => m.payload), { timeout: 10_000 })
      .toEqual([examplePayload]);
  });

  // What both MQTT 5 snippets send along with the reading, as the message log keeps it.
  const v5Properties = { contentType: "application/json", userProperties: [{ name: "source", value: "fleetwatch-wizard" }] };

  it.skipIf(!hasMosquittoPub)(
    "the MQTT 5 mosquitto_pub line (-V mqttv5) stores the message with its content type and user property [MQTT-3.3.2-17, MQTT-3.3.2-20]",
    async () => {
      const issued = await registerDevice(server.httpUrl, token, { name: "Snippet boiler v5", id: "snippet-boiler-v5" });
      const result = await run("/bin/sh", ["-c", mosquittoPubV5Command(targetOf(issued))]);
      expect(result, result.stderr).toMatchObject({ code: 0 });
      await expect
        .poll(async () => (await loggedTelemetry("snippet-boiler-v5")).map(({ payload, properties }) => ({ payload, properties })), {
          timeout: 10_000,
        })
        .toEqual([{ payload: examplePayload, properties: v5Properties }]);
      await expect
        .poll(() => metricsOf("snippet-boiler-v5"), { timeout: 10_000 })
        .toEqual([
          ["humidity", 40],
          ["temperature", 21.5],
        ]);
    },
  );

  it("the MQTT 5 MQTT.js program publishes the telemetry with its content type and user property, and exits", async () => {
    const issued = await registerDevice(server.httpUrl, token, { name: "Snippet node v5", id: "snippet-node-v5" });
    const program = buildSnippets(targetOf(issued)).find((snippet) => snippet.id === "mqttjs-v5")?.code ?? "";
    const result = await run(process.execPath, ["--input-type=module", "-"], program);
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" });
    await expect
      .poll(async () => (await loggedTelemetry("snippet-node-v5")).map(({ payload, properties }) => ({ payload, properties })), {
        timeout: 10_000,
      })
      .toEqual([{ payload: examplePayload, properties: v5Properties }]);
  });

  it("the Python program is valid Python 3 whose credentials are the issued strings, a hostile password included", async () => {
    const password = `p'a"s\\s\u00e9\n{}`;
    const program =
      buildSnippets({
        deviceId: "snippet-py",
        credentials: { clientId: "snippet-py", username: "snippet-py", password },
        endpoints: { mqtt: server.mqttUrl, ws: server.wsUrl },
      }).find((snippet) => snippet.id === "python")?.code ?? "";
    // Parses the program (no paho needed) and prints the literal arguments of its calls.
    const inspect = `
import ast, json, sys
tree = ast.parse(sys.stdin.read())
calls = {}
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("username_pw_set", "connect"):
        calls[node.func.attr] = [ast.literal_eval(arg) for arg in node.args]
print(json.dumps(calls))
`;
    const result = await run("python3", ["-c", inspect], program);
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(result.stdout)).toEqual({
      username_pw_set: ["snippet-py", password],
      connect: ["127.0.0.1", server.fleetwatch.ports.mqtt],
    });
  });
});
