// Devices as a user meets them in the e2e run: registered through the product's API (or
// read from the wizard's page), then connected by a real MQTT client over a real socket.
import type { Page } from "@playwright/test";
import { expect } from "@playwright/test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { DeviceWithCredentials } from "@fleetwatch/contracts";
import { csrfToken } from "./accounts.ts";

export interface DeviceLogin {
  id: string;
  username: string;
  password: string;
}

/** A device id no earlier spec in this run has used. */
export function uniqueDeviceId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
}

/** Registers a device through POST /api/devices as the page's signed-in admin. */
export async function registerDevice(page: Page, body: { id: string; name?: string; tags?: string[] }): Promise<DeviceLogin> {
  const token = await csrfToken(page.request);
  const response = await page.request.post("/api/devices", {
    data: { name: body.name ?? body.id, ...body },
    headers: { "x-csrf-token": token },
  });
  expect(response.status(), await response.text()).toBe(201);
  const issued = (await response.json()) as DeviceWithCredentials;
  return { id: issued.device.id, username: issued.credentials.username, password: issued.credentials.password };
}

/** Connects as the device over TCP and waits for CONNACK. The caller ends it (or drops its socket). */
export async function connectDevice(mqttPort: number, login: DeviceLogin, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: login.id,
    username: login.username,
    password: login.password,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

/** Publishes and waits for the broker's acknowledgement (QoS 1 by default). */
export async function publish(
  client: MqttClient,
  topic: string,
  payload: unknown,
  options: { qos?: 0 | 1 | 2; retain?: boolean } = {},
): Promise<void> {
  await client.publishAsync(topic, typeof payload === "string" ? payload : JSON.stringify(payload), {
    qos: options.qos ?? 1,
    retain: options.retain ?? false,
  });
}

/** Drops the TCP connection without DISCONNECT, as a device losing power does: its will fires. */
export function dropConnection(client: MqttClient): void {
  client.stream.destroy();
  client.end(true);
}
