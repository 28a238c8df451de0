// Devices as the ingest and history tests meet them: a registry row with real credentials
// (the secret hashed exactly as the server hashes it), connecting with device id = client id
// = user name and the device's secret as password. Registering through SQL rather than the
// API lets a test prepare devices before a separately spawned server is running.
import type { IClientOptions } from "mqtt";
import { hashSecret, scryptCost } from "../../apps/server/src/security/secrets.ts";
import { adminQuery } from "./postgres.ts";

/** The test secret of a device; deterministic, so any test can connect as any device it registered. */
export const deviceSecret = (deviceId: string) => `test-secret-${deviceId}`;

/** Registers a device with credentials directly in the database. */
export async function registerDevice(databaseUrl: string, deviceId: string, name = deviceId): Promise<void> {
  const secretHash = await hashSecret(deviceSecret(deviceId), scryptCost.deviceSecret);
  await adminQuery(
    databaseUrl,
    `INSERT INTO devices (id, name, secret_hash, updated_at) VALUES ($1, $2, $3, now()) ON CONFLICT (id) DO NOTHING`,
    [deviceId, name, secretHash],
  );
}

/** A registered device's MQTT user name and password. */
export function deviceCredentials(deviceId: string): { username: string; password: string } {
  return { username: deviceId, password: deviceSecret(deviceId) };
}

/** MQTT connect options for a device registered with registerDevice. */
export function deviceConnectOptions(deviceId: string, options: IClientOptions = {}): IClientOptions {
  return { clientId: deviceId, ...deviceCredentials(deviceId), reconnectPeriod: 0, connectTimeout: 5_000, ...options };
}
