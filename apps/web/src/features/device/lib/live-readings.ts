// Readings in live telemetry messages, parsed exactly as the server's ingest parses them
// (parseTelemetry in the shared contracts), so a value on the live chart is the value stored.
import { parseDeviceTopic, parseTelemetry, type LiveMqttMessage, type Reading } from "@fleetwatch/contracts";

export interface LiveReadings {
  /** Epoch ms: the payload's `ts`, else when the server received it. */
  time: number;
  readings: Reading[];
}

/** The readings of a telemetry message from `deviceId`; null for other topics and unparseable payloads. */
export function liveReadingsOf(message: LiveMqttMessage, deviceId: string): LiveReadings | null {
  const topic = parseDeviceTopic(message.topic);
  if (!topic || topic.deviceId !== deviceId || topic.channel !== "telemetry" || message.encoding !== "utf8") return null;
  const parsed = parseTelemetry(message.payload, new Date(message.at));
  return parsed.ok ? { time: parsed.time.getTime(), readings: parsed.readings } : null;
}
