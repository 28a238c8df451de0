// Retained messages, read from the broker persistence's table (raw pg, like the
// persistence that writes it): a device's current state, and the topic explorer's tree.
import type pg from "pg";
import { deviceTopic } from "@fleetwatch/contracts";
import { topicFilterSql, type TopicCondition } from "../../db/topic-filter.ts";

export interface RetainedRow {
  topic: string;
  payload: Buffer;
  updated_at: Date;
}

export class StateRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The retained messages under the device's devices/{id}/ namespace. */
  async retainedOf(deviceId: string): Promise<RetainedRow[]> {
    // Device ids never contain LIKE wildcards (DEVICE_ID_PATTERN), so the prefix is literal;
    // the "C" collation makes it a range scan of the primary key.
    const { rows } = await this.pool.query<RetainedRow>(
      "SELECT topic, payload, updated_at FROM mqtt_retained WHERE topic LIKE $1 ORDER BY topic",
      [`${deviceTopic.root(deviceId)}/%`],
    );
    return rows;
  }

  /** Retained messages whose topics meet `condition`, by topic; every part of it is a bound parameter. */
  async retainedMatching(condition: TopicCondition, limit: number): Promise<RetainedRow[]> {
    const topic = topicFilterSql("topic", condition, 2);
    const { rows } = await this.pool.query<RetainedRow>(
      `SELECT topic, payload, updated_at FROM mqtt_retained WHERE ${topic.sql} ORDER BY topic LIMIT $1`,
      [limit, ...topic.params],
    );
    return rows;
  }
}
