// The credentials of imported devices as CSV, for the one download the operator gets:
// the server keeps only hashes, so this file is the only copy of the passwords.
import type { DeviceImportResult } from "@fleetwatch/contracts";

const quote = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export function credentialsCsv(result: DeviceImportResult): string {
  const lines = [["id", "name", "client_id", "username", "password", "mqtt", "ws"].join(",")];
  for (const { device, credentials, endpoints } of result.created)
    lines.push(
      [device.id, device.name, credentials.clientId, credentials.username, credentials.password, endpoints.mqtt, endpoints.ws]
        .map(quote)
        .join(","),
    );
  return `${lines.join("\r\n")}\r\n`;
}
