// Ready-to-paste client code for a freshly registered device: the real host, port, id and
// password filled in. Pure (no React, no DOM), so the unit test checks every snippet's
// quoting, and an integration test (apps/server/test/register-snippets.test.ts) runs the
// mosquitto_pub lines (MQTT 3.1.1 and 5) through a real shell and the MQTT.js programs
// through Node against a real server.
import { deviceTopic, type DeviceCredentials, type DeviceEndpoints } from "@fleetwatch/contracts";

export type SnippetId = "mosquitto" | "mqttjs" | "mosquitto-v5" | "mqttjs-v5" | "python" | "arduino";

export interface Snippet {
  id: SnippetId;
  label: string;
  /** What the reader needs to run it, in a sentence. */
  hint: string;
  code: string;
}

export interface SnippetTarget {
  deviceId: string;
  credentials: DeviceCredentials;
  endpoints: DeviceEndpoints;
}

/** The example reading every snippet publishes: numbers only, so it is valid JSON, Python and C alike. */
export const exampleReadings: Readonly<Record<string, number>> = { temperature: 21.5, humidity: 40 };

/** The telemetry payload the snippets publish (payloads.ts turns it into one reading per field). */
export const examplePayload = JSON.stringify(exampleReadings);

/**
 * The MQTT 5 properties the v5 snippets send with the reading: the Content Type, and a User
 * Property naming where the message came from; both show up with the message in the topic
 * explorer and the device's recent messages.
 */
export const exampleV5Properties = {
  contentType: "application/json",
  userProperty: { name: "source", value: "fleetwatch-wizard" },
} as const;

/** MQTT's registered port [MQTT 4.2], for an endpoint URL that names none. */
const DEFAULT_MQTT_PORT = 1883;

/** Host and port of an `mqtt://host:port` endpoint. IPv6 hosts lose their URL brackets. */
export function brokerAddress(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { host, port: url.port ? Number(url.port) : DEFAULT_MQTT_PORT };
}

/** Whether devices elsewhere cannot use this host (it names the operator's own machine). */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

/**
 * A POSIX shell word that stays exactly `value`: left bare when it only has characters no
 * shell treats specially, otherwise in single quotes, where nothing is special but the quote
 * itself, which is written as '\'' (close, escaped quote, reopen).
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A JavaScript (and Python 3) string literal: JSON's escapes are valid in both languages. */
const scriptString = (value: string) => JSON.stringify(value);

/** A C/C++ string literal. Octal escapes take at most three digits, so a following digit cannot join them. */
export function cString(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const char = String.fromCharCode(byte);
    if (char === '"' || char === "\\") out += `\\${char}`;
    else if (byte >= 0x20 && byte < 0x7f && char !== "?")
      out += char; // "?" avoids trigraphs
    else out += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `"${out}"`;
}

/** `{"temperature": 21.5, ...}`: the same text is a Python dict and a JavaScript object. */
const objectLiteral = (readings: Readonly<Record<string, number>>) =>
  `{${Object.entries(readings)
    .map(([key, value]) => `${scriptString(key)}: ${value}`)
    .join(", ")}}`;

export function mosquittoPubCommand(target: SnippetTarget): string {
  return mosquittoPubLines(target).join(" \\\n");
}

/** The same publish over MQTT 5 (`-V mqttv5`), with a content type and a user property (`-D publish ...`). */
export function mosquittoPubV5Command(target: SnippetTarget): string {
  const { contentType, userProperty } = exampleV5Properties;
  const [connect, login, topic, message] = mosquittoPubLines(target);
  return [
    `${connect} -V mqttv5`,
    login,
    topic,
    `  -D publish content-type ${shellQuote(contentType)}`,
    `  -D publish user-property ${shellQuote(userProperty.name)} ${shellQuote(userProperty.value)}`,
    message,
  ].join(" \\\n");
}

function mosquittoPubLines({ deviceId, credentials, endpoints }: SnippetTarget): [string, string, string, string] {
  const { host, port } = brokerAddress(endpoints.mqtt);
  return [
    `mosquitto_pub -h ${shellQuote(host)} -p ${port}`,
    `  -i ${shellQuote(credentials.clientId)} -u ${shellQuote(credentials.username)} -P ${shellQuote(credentials.password)}`,
    `  -q 1 -t ${shellQuote(deviceTopic.telemetry(deviceId))}`,
    `  -m ${shellQuote(examplePayload)}`,
  ];
}

function mqttJs({ deviceId, credentials, endpoints }: SnippetTarget, mqtt5 = false): string {
  const { contentType, userProperty } = exampleV5Properties;
  // MQTT 5: the PUBACK's reason code reaches the callback as an error when the broker refuses the message.
  const options = mqtt5
    ? `{
    qos: 1,
    properties: { contentType: ${scriptString(contentType)}, userProperties: { ${scriptString(userProperty.name)}: ${scriptString(userProperty.value)} } },
  }`
    : "{ qos: 1 }";
  return `import mqtt from "mqtt";

const client = mqtt.connect(${scriptString(endpoints.mqtt)}, {
  clientId: ${scriptString(credentials.clientId)},
  username: ${scriptString(credentials.username)},
  password: ${scriptString(credentials.password)},${mqtt5 ? "\n  protocolVersion: 5," : ""}
});

client.on("connect", () => {
  const reading = ${objectLiteral(exampleReadings)};
  const options = ${options};
  client.publish(${scriptString(deviceTopic.telemetry(deviceId))}, JSON.stringify(reading), options, (error) => {
    if (error) console.error("publish failed:", error.message);
    client.end();
  });
});
client.on("error", (error) => {
  console.error("MQTT error:", error.message);
  client.end();
});
`;
}

function pythonPaho({ deviceId, credentials, endpoints }: SnippetTarget): string {
  const { host, port } = brokerAddress(endpoints.mqtt);
  return `import json

import paho.mqtt.client as mqtt  # pip install "paho-mqtt>=2"

client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=${scriptString(credentials.clientId)})
client.username_pw_set(${scriptString(credentials.username)}, ${scriptString(credentials.password)})
client.connect(${scriptString(host)}, ${port})
client.loop_start()

reading = ${objectLiteral(exampleReadings)}
message = client.publish(${scriptString(deviceTopic.telemetry(deviceId))}, json.dumps(reading), qos=1)
message.wait_for_publish()

client.disconnect()
client.loop_stop()
`;
}

function arduinoPubSubClient({ deviceId, credentials, endpoints }: SnippetTarget): string {
  const { host, port } = brokerAddress(endpoints.mqtt);
  const fields = Object.keys(exampleReadings);
  // The payload is built with snprintf, one %g per reading, so a real sensor value drops in.
  const format = `{${fields.map((field) => `"${field}":%g`).join(",")}}`;
  const values = fields.map((field) => `${field}`).join(", ");
  return `#include <WiFi.h>          // ESP32; on ESP8266 use <ESP8266WiFi.h>
#include <PubSubClient.h>

const char* WIFI_SSID = "your-wifi-name";
const char* WIFI_PASSWORD = "your-wifi-password";

const char* MQTT_HOST = ${cString(host)};
const uint16_t MQTT_PORT = ${port};
const char* DEVICE_ID = ${cString(credentials.clientId)};
const char* MQTT_USER = ${cString(credentials.username)};
const char* MQTT_PASSWORD = ${cString(credentials.password)};
const char* TELEMETRY_TOPIC = ${cString(deviceTopic.telemetry(deviceId))};

WiFiClient network;
PubSubClient mqtt(network);
unsigned long lastSent = 0;

void setup() {
  Serial.begin(115200);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  while (WiFi.status() != WL_CONNECTED) delay(500);
  mqtt.setServer(MQTT_HOST, MQTT_PORT);
}

void loop() {
  if (!mqtt.connected()) {
    if (!mqtt.connect(DEVICE_ID, MQTT_USER, MQTT_PASSWORD)) {
      Serial.printf("MQTT connect failed, state %d\\n", mqtt.state());
      delay(2000);
      return;
    }
  }
  mqtt.loop();
  if (millis() - lastSent >= 10000) {
    lastSent = millis();
${fields.map((field) => `    double ${field} = ${exampleReadings[field]};  // read your sensor here`).join("\n")}
    char payload[128];
    snprintf(payload, sizeof payload, ${cString(format)}, ${values});
    mqtt.publish(TELEMETRY_TOPIC, payload);
  }
}
`;
}

/** Every snippet for one device, in the order the wizard shows them. */
export function buildSnippets(target: SnippetTarget): Snippet[] {
  return [
    {
      id: "mosquitto",
      label: "mosquitto_pub",
      hint: "From a terminal with mosquitto-clients installed.",
      code: mosquittoPubCommand(target),
    },
    { id: "mqttjs", label: "MQTT.js", hint: "Node.js: npm install mqtt, save as publish.mjs, run node publish.mjs.", code: mqttJs(target) },
    {
      id: "mosquitto-v5",
      label: "mosquitto_pub (MQTT 5)",
      hint: "MQTT 5, with a content type and a user property: mosquitto-clients 1.6 or later.",
      code: mosquittoPubV5Command(target),
    },
    {
      id: "mqttjs-v5",
      label: "MQTT.js (MQTT 5)",
      hint: "MQTT 5, with a content type and a user property: npm install mqtt, save as publish.mjs, run node publish.mjs.",
      code: mqttJs(target, true),
    },
    { id: "python", label: "Python (paho-mqtt)", hint: "Python 3 with paho-mqtt 2.x: pip install paho-mqtt.", code: pythonPaho(target) },
    {
      id: "arduino",
      label: "Arduino / ESP32",
      hint: "Arduino IDE with the PubSubClient library; set your Wi-Fi name and password.",
      code: arduinoPubSubClient(target),
    },
  ];
}
