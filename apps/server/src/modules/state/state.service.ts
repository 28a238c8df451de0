import { parseDeviceTopic, type DeviceState, type RetainedEntry } from "@fleetwatch/contracts";
import type { RetainedRow, StateRepository } from "./state.repository.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** JSON payloads are returned parsed, other UTF-8 text as a string, anything else as base64. */
export function toRetainedEntry(row: RetainedRow): RetainedEntry {
  const subtopic = parseDeviceTopic(row.topic)?.subtopic ?? row.topic;
  const base = { topic: row.topic, subtopic, updatedAt: row.updated_at.toISOString() };
  let text: string;
  try {
    text = utf8.decode(row.payload);
  } catch {
    return { ...base, format: "base64", payload: row.payload.toString("base64") };
  }
  try {
    return { ...base, format: "json", payload: JSON.parse(text) as unknown };
  } catch {
    return { ...base, format: "text", payload: text };
  }
}

export class StateService {
  constructor(private readonly repository: StateRepository) {}

  async stateOf(deviceId: string): Promise<DeviceState | null> {
    const rows = await this.repository.retainedOf(deviceId);
    return rows && { deviceId, retained: rows.map(toRetainedEntry) };
  }
}
