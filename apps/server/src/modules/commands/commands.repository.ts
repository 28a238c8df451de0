// Commands to devices in PostgreSQL (plain SQL). Every status change is one UPDATE whose WHERE
// names the statuses it may leave: two nodes racing (an expiry sweep on each, a PUBACK on one
// and the expiry on another) change a command once, and only the winner publishes the event.
import type pg from "pg";
import type { Command, CommandStatus } from "@fleetwatch/contracts";

interface CommandRow {
  id: string;
  device_id: string;
  name: string;
  params: unknown;
  status: CommandStatus;
  timeout_s: number;
  sent_by: string;
  created_at: Date;
  expires_at: Date;
  queued_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  responded_at: Date | null;
  expired_at: Date | null;
  failed_at: Date | null;
  error: string | null;
  response_payload: string | null;
  response_encoding: "utf8" | "base64" | null;
  response_ok: boolean | null;
}

const COLUMNS =
  "id, device_id, name, params, status, timeout_s, sent_by, created_at, expires_at, queued_at, sent_at, delivered_at, responded_at, " +
  "expired_at, failed_at, error, response_payload, response_encoding, response_ok";
const OPEN = "('queued', 'sent', 'delivered')";
const iso = (date: Date | null) => date?.toISOString() ?? null;
/** The platform issues UUIDs; any other id (a device may answer to any topic level) names no command. */
const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

function toCommand(row: CommandRow): Command {
  return {
    id: row.id,
    deviceId: row.device_id,
    name: row.name,
    params: row.params,
    status: row.status,
    timeoutSeconds: row.timeout_s,
    sentBy: row.sent_by,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    queuedAt: iso(row.queued_at),
    sentAt: iso(row.sent_at),
    deliveredAt: iso(row.delivered_at),
    respondedAt: iso(row.responded_at),
    expiredAt: iso(row.expired_at),
    failedAt: iso(row.failed_at),
    error: row.error,
    response:
      row.response_payload === null
        ? null
        : { payload: row.response_payload, encoding: row.response_encoding ?? "utf8", ok: row.response_ok },
  };
}

export interface NewCommand {
  id: string;
  deviceId: string;
  name: string;
  params: unknown;
  status: "queued" | "sent" | "failed";
  timeoutSeconds: number;
  sentByUserId: string | null;
  sentBy: string;
  error: string | null;
}

export interface StoredResponse {
  payload: string;
  encoding: "utf8" | "base64";
  ok: boolean | null;
}

export class CommandsRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insert(command: NewCommand): Promise<Command> {
    const { rows } = await this.pool.query<CommandRow>(
      `INSERT INTO device_commands (id, device_id, name, params, status, timeout_s, sent_by_user_id, sent_by, expires_at,
         queued_at, sent_at, failed_at, error)
       VALUES ($1, $2, $3, $4::jsonb, $5::text, $6::int, $7, $8, now() + $6::int * interval '1 second',
         CASE WHEN $5::text = 'queued' THEN now() END, CASE WHEN $5::text = 'sent' THEN now() END, CASE WHEN $5::text = 'failed' THEN now() END, $9)
       RETURNING ${COLUMNS}`,
      [
        command.id,
        command.deviceId,
        command.name,
        command.params === undefined ? null : JSON.stringify(command.params),
        command.status,
        command.timeoutSeconds,
        command.sentByUserId,
        command.sentBy,
        command.error,
      ],
    );
    return toCommand(rows[0] as CommandRow);
  }

  async find(deviceId: string, id: string): Promise<Command | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<CommandRow>(`SELECT ${COLUMNS} FROM device_commands WHERE id = $1 AND device_id = $2`, [
      id,
      deviceId,
    ]);
    return rows[0] ? toCommand(rows[0]) : null;
  }

  /** Newest first. */
  async list(deviceId: string, limit: number, offset: number): Promise<{ items: Command[]; total: number }> {
    const [page, count] = await Promise.all([
      this.pool.query<CommandRow>(
        `SELECT ${COLUMNS} FROM device_commands WHERE device_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [deviceId, limit, offset],
      ),
      this.pool.query<{ total: number }>("SELECT count(*)::int AS total FROM device_commands WHERE device_id = $1", [deviceId]),
    ]);
    return { items: page.rows.map(toCommand), total: count.rows[0]?.total ?? 0 };
  }

  /** The device acknowledged it [MQTT-4.3.2-2 PUBACK]; null when it had left queued and sent already (answered, expired). */
  async delivered(deviceId: string, id: string): Promise<Command | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<CommandRow>(
      `UPDATE device_commands SET status = 'delivered', delivered_at = now(), sent_at = coalesce(sent_at, now())
       WHERE id = $1 AND device_id = $2 AND status IN ('queued', 'sent')
       RETURNING ${COLUMNS}`,
      [id, deviceId],
    );
    return rows[0] ? toCommand(rows[0]) : null;
  }

  /** The device answered; null for a command that is not open (unknown, answered or expired already). */
  async responded(deviceId: string, id: string, response: StoredResponse): Promise<Command | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.pool.query<CommandRow>(
      `UPDATE device_commands SET status = 'responded', responded_at = now(), delivered_at = coalesce(delivered_at, now()),
         sent_at = coalesce(sent_at, now()), response_payload = $3, response_encoding = $4, response_ok = $5
       WHERE id = $1 AND device_id = $2 AND status IN ${OPEN}
       RETURNING ${COLUMNS}`,
      [id, deviceId, response.payload, response.encoding, response.ok],
    );
    return rows[0] ? toCommand(rows[0]) : null;
  }

  async failed(id: string, error: string): Promise<Command | null> {
    const { rows } = await this.pool.query<CommandRow>(
      `UPDATE device_commands SET status = 'failed', failed_at = now(), error = $2 WHERE id = $1 AND status IN ${OPEN} RETURNING ${COLUMNS}`,
      [id, error],
    );
    return rows[0] ? toCommand(rows[0]) : null;
  }

  /** Expires every open command past its time, each once whichever node sweeps. */
  async expireDue(): Promise<Command[]> {
    const { rows } = await this.pool.query<CommandRow>(
      `UPDATE device_commands SET status = 'expired', expired_at = now()
       WHERE status IN ${OPEN} AND expires_at <= now()
       RETURNING ${COLUMNS}`,
    );
    return rows.map(toCommand);
  }
}
