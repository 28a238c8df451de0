// Reads of the message log. The only code that queries messages. Raw pg: the partitioned
// message log is not a Prisma model.
import type pg from "pg";
import type { MessageProperties } from "@fleetwatch/contracts";
import { topicFilterSql, type TopicCondition } from "../../db/topic-filter.ts";

export interface MessageRow {
  device_id: string;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  received_at: Date;
  /** jsonb, written by ingest in the contract's shape; null for a message without MQTT 5 properties. */
  properties: MessageProperties | null;
}

export class MessagesRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Newest first. Every part of the condition is a bound parameter. */
  async search(condition: TopicCondition, from: Date, to: Date, limit: number): Promise<MessageRow[]> {
    const topic = topicFilterSql("topic", condition, 4);
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT device_id, topic, payload, qos, retain, received_at, properties
         FROM messages
        WHERE received_at >= $1 AND received_at < $2 AND ${topic.sql}
        ORDER BY received_at DESC
        LIMIT $3`,
      [from, to, limit, ...topic.params],
    );
    return rows;
  }
}
