// Devices as the tests meet them: registered in the registry, connecting over MQTT with
// their device id as client id. Until device credentials exist the broker admits anyone;
// when they do, only these two functions change.
import type { IClientOptions } from "mqtt";
import { adminQuery } from "./postgres.ts";

/** Registers a device directly in the database (the registry's row, nothing else). */
export async function registerDevice(databaseUrl: string, deviceId: string, name = deviceId): Promise<void> {
  await adminQuery(databaseUrl, `INSERT INTO devices (id, name, updated_at) VALUES ($1, $2, now()) ON CONFLICT (id) DO NOTHING`, [deviceId, name]);
}

/** MQTT connect options for a device: its id is its client id and user name. */
export function deviceConnectOptions(deviceId: string, options: IClientOptions = {}): IClientOptions {
  return { clientId: deviceId, username: deviceId, reconnectPeriod: 0, connectTimeout: 5_000, ...options };
}
