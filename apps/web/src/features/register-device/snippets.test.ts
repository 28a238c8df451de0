import { describe, expect, it } from "vitest";
import { deviceTopic, parseTelemetry } from "@fleetwatch/contracts";
import {
  brokerAddress,
  buildSnippets,
  cString,
  examplePayload,
  isLoopbackHost,
  mosquittoPubCommand,
  shellQuote,
  type SnippetTarget,
} from "./snippets.ts";

const target: SnippetTarget = {
  deviceId: "boiler-7",
  credentials: { clientId: "boiler-7", username: "boiler-7", password: "Zx9_-secretToken" },
  endpoints: { mqtt: "mqtt://broker.example.net:18830", ws: "ws://broker.example.net:8080/mqtt" },
};
const snippet = (id: string) => buildSnippets(target).find((s) => s.id === id)?.code ?? "";

describe("register-device snippets", () => {
  it("publish a telemetry payload the server turns into readings", () => {
    const parsed = parseTelemetry(examplePayload, new Date());
    expect(parsed.ok && parsed.readings).toEqual([
      { metric: "temperature", value: 21.5 },
      { metric: "humidity", value: 40 },
    ]);
  });

  it("fill in the real host, port, client id, user name, password and the device's telemetry topic in every language", () => {
    const snippets = buildSnippets(target);
    expect(snippets.map((s) => s.id)).toEqual(["mosquitto", "mqttjs", "mosquitto-v5", "mqttjs-v5", "python", "arduino"]);
    for (const { code, id } of snippets) {
      for (const expected of ["broker.example.net", "18830", "boiler-7", "Zx9_-secretToken", deviceTopic.telemetry("boiler-7")]) {
        expect(code, `${id} snippet mentions ${expected}`).toContain(expected);
      }
    }
    expect(snippet("mosquitto")).toContain("-h broker.example.net -p 18830");
    expect(snippet("mqttjs")).toContain('mqtt.connect("mqtt://broker.example.net:18830"');
    expect(snippet("python")).toContain('client.connect("broker.example.net", 18830)');
    expect(snippet("python")).toContain("mqtt.CallbackAPIVersion.VERSION2"); // the paho-mqtt 2.x constructor
    expect(snippet("arduino")).toContain("const uint16_t MQTT_PORT = 18830;");
  });

  it("offer MQTT 5 variants that connect with MQTT 5 and send a content type and a user property", () => {
    expect(snippet("mosquitto-v5")).toContain("-h broker.example.net -p 18830 -V mqttv5");
    expect(snippet("mosquitto-v5")).toContain("-D publish content-type application/json");
    expect(snippet("mosquitto-v5")).toContain("-D publish user-property source fleetwatch-wizard");
    expect(snippet("mqttjs-v5")).toContain("protocolVersion: 5,");
    expect(snippet("mqttjs-v5")).toContain(
      'properties: { contentType: "application/json", userProperties: { "source": "fleetwatch-wizard" } }',
    );
    // The MQTT 3.1.1 variants stay free of MQTT 5 options.
    expect(snippet("mosquitto")).not.toContain("-V");
    expect(snippet("mqttjs")).not.toContain("protocolVersion");
  });

  it("reads host and port from the endpoint URL, IPv6 without brackets, 1883 when none is given", () => {
    expect(brokerAddress("mqtt://127.0.0.1:41883")).toEqual({ host: "127.0.0.1", port: 41883 });
    expect(brokerAddress("mqtt://[::1]:1884")).toEqual({ host: "::1", port: 1884 });
    expect(brokerAddress("mqtt://sensors.local")).toEqual({ host: "sensors.local", port: 1883 });
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("::1")).toBe(true);
    expect(isLoopbackHost("192.168.1.20")).toBe(false);
  });

  it("shell-quotes only what needs it, and a quote inside single quotes as '\\''", () => {
    expect(shellQuote("boiler-7")).toBe("boiler-7");
    expect(shellQuote("devices/boiler-7/telemetry")).toBe("devices/boiler-7/telemetry");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("$HOME")).toBe("'$HOME'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote(examplePayload)).toBe(`'${examplePayload}'`);
  });

  it("puts a hostile password into the mosquitto_pub line as one quoted word", () => {
    const command = mosquittoPubCommand({ ...target, credentials: { ...target.credentials, password: `p'w $(rm -rf ~) "x"` } });
    expect(command).toContain(`-P 'p'\\''w $(rm -rf ~) "x"'`);
    // Continuation lines: every line but the last ends in a backslash.
    const lines = command.split("\n");
    expect(lines.slice(0, -1).every((line) => line.endsWith(" \\"))).toBe(true);
  });

  it("escapes quotes, backslashes and non-ASCII bytes in C string literals", () => {
    expect(cString("plain-1")).toBe('"plain-1"');
    expect(cString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(cString("é")).toBe('"\\303\\251"');
    expect(cString("??=")).toBe('"\\077\\077="');
  });
});
