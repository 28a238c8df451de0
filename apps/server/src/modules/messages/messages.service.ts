// Message log search: the topic filter, the time range and the mapping to the contract.
import { DEFAULT_MESSAGES_LIMIT, type LoggedMessage, type MessagesQuery } from "@fleetwatch/contracts";
import { ApiProblem } from "../../http/errors.ts";
import { resolveRange } from "../telemetry/telemetry.service.ts";
import { payloadAsText } from "../../lib/payload-text.ts";
import type { MessageRow, MessagesRepository } from "./messages.repository.ts";
import { topicFilterCondition } from "../../db/topic-filter.ts";

export class MessagesService {
  constructor(private readonly repository: MessagesRepository) {}

  async search(query: MessagesQuery): Promise<LoggedMessage[]> {
    const filter = query.topic ?? "#";
    const condition = topicFilterCondition(filter);
    if (!condition)
      throw new ApiProblem(400, `"${filter}" is not a valid MQTT topic filter: + and # must be whole levels, and # only the last`);
    const range = resolveRange(query);
    const rows = await this.repository.search(condition, range.from, range.to, query.limit ?? DEFAULT_MESSAGES_LIMIT);
    return rows.map(toLoggedMessage);
  }
}

function toLoggedMessage(row: MessageRow): LoggedMessage {
  const { payload, encoding: payloadEncoding } = payloadAsText(row.payload);
  return {
    deviceId: row.device_id,
    topic: row.topic,
    payload,
    payloadEncoding,
    qos: row.qos,
    retain: row.retain,
    receivedAt: row.received_at.toISOString(),
    ...(row.properties ? { properties: row.properties } : {}),
  };
}
