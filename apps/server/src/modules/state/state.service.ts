import {
  CONTROL_PREFIX,
  DEFAULT_RETAINED_LIMIT,
  parseDeviceTopic,
  type DeviceState,
  type RetainedEntry,
  type RetainedList,
  type RetainedQuery,
} from "@fleetwatch/contracts";
import { ApiProblem, badRequest, forbidden } from "../../http/errors.ts";
import { topicFilterCondition } from "../../db/topic-filter.ts";
import type { RetainedRow, StateRepository } from "./state.repository.ts";
import { payloadAsText } from "../../lib/payload-text.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";

/** JSON payloads are returned parsed, other UTF-8 text as a string, anything else as base64. */
export function toRetainedEntry(row: RetainedRow): RetainedEntry {
  const subtopic = parseDeviceTopic(row.topic)?.subtopic ?? row.topic;
  const base = { topic: row.topic, subtopic, updatedAt: row.updated_at.toISOString() };
  const { payload: text, encoding } = payloadAsText(row.payload);
  if (encoding === "base64") return { ...base, format: "base64", payload: text };
  try {
    return { ...base, format: "json", payload: JSON.parse(text) as unknown };
  } catch {
    return { ...base, format: "text", payload: text };
  }
}

export class StateService {
  constructor(
    private readonly repository: StateRepository,
    private readonly devices: Pick<DevicesRepository, "exists">,
  ) {}

  async stateOf(deviceId: string): Promise<DeviceState> {
    if (!(await this.devices.exists(deviceId))) throw new ApiProblem(404, `no device "${deviceId}"`);
    const rows = await this.repository.retainedOf(deviceId);
    return { deviceId, retained: rows.map(toRetainedEntry) };
  }

  /** The retained messages matching an MQTT topic filter, e.g. for the topic explorer's tree. */
  async retainedMatching(query: RetainedQuery): Promise<RetainedList> {
    const condition = topicFilterCondition(query.topic);
    if (!condition)
      throw badRequest(
        `"${query.topic}" is not a valid MQTT topic filter: + and # must be whole levels, and # only the last`,
        "BAD_FILTER",
      );
    // The platform's own channels ($fleetwatch/...) are closed to operators here as on the broker (gate.ts).
    if (query.topic.startsWith(CONTROL_PREFIX.slice(0, -1))) {
      throw forbidden(`"${query.topic}" is an internal channel of the platform`);
    }
    const limit = query.limit ?? DEFAULT_RETAINED_LIMIT;
    // One more than asked tells whether the answer is cut short.
    const rows = await this.repository.retainedMatching(condition, limit + 1);
    return { retained: rows.slice(0, limit).map(toRetainedEntry), truncated: rows.length > limit };
  }
}
