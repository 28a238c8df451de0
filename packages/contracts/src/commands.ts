// HTTP contracts of commands to devices: /api/devices/:id/commands. The MQTT side of the
// convention (topics, payloads) is in topics.ts.
import { Type, type Static } from "typebox";
import { COMMAND_ID_PATTERN, DEVICE_ID_PATTERN } from "./topics.ts";

/**
 * - queued: the device is offline with a persistent session (cleanSession=0); the command waits in its session queue.
 * - sent: published to the connected device.
 * - delivered: the device acknowledged it (PUBACK).
 * - responded: the device answered on .../response.
 * - expired: no answer within the timeout.
 * - failed: it could not be sent (the device is offline without a session, or disabled).
 */
export const CommandStatus = Type.Union(
  [
    Type.Literal("queued"),
    Type.Literal("sent"),
    Type.Literal("delivered"),
    Type.Literal("responded"),
    Type.Literal("expired"),
    Type.Literal("failed"),
  ],
  { $id: "CommandStatus" },
);
export type CommandStatus = Static<typeof CommandStatus>;

/** Statuses a command can still leave. */
export const OPEN_COMMAND_STATUSES: readonly CommandStatus[] = ["queued", "sent", "delivered"];

export const COMMAND_TIMEOUT_DEFAULT_S = 30;
export const COMMAND_TIMEOUT_MAX_S = 86_400;

/** The JSON payload published to devices/{id}/commands/{commandId}. */
export interface CommandPayload {
  name: string;
  params: unknown;
}

export const CommandCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: "\\S", description: "What the device is to do, e.g. reboot" }),
    params: Type.Optional(Type.Unknown({ description: "Any JSON value, sent to the device as is" })),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: COMMAND_TIMEOUT_MAX_S,
        description: `Seconds to wait for the device's response before the command expires (default ${COMMAND_TIMEOUT_DEFAULT_S})`,
      }),
    ),
  },
  { additionalProperties: false, $id: "CommandCreate" },
);
export type CommandCreate = Static<typeof CommandCreate>;

const Time = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);

export const CommandResponse = Type.Object(
  {
    /** UTF-8 text when the payload is valid UTF-8 (without U+0000), else base64. */
    payload: Type.String(),
    encoding: Type.Union([Type.Literal("utf8"), Type.Literal("base64")]),
    /** The `ok` of a JSON object payload, when it has a boolean one. */
    ok: Type.Union([Type.Boolean(), Type.Null()]),
  },
  { $id: "CommandResponse" },
);
export type CommandResponse = Static<typeof CommandResponse>;

export const Command = Type.Object(
  {
    id: Type.String(),
    deviceId: Type.String(),
    name: Type.String(),
    params: Type.Unknown(),
    status: CommandStatus,
    timeoutSeconds: Type.Integer(),
    /** Who sent it: the operator's email. */
    sentBy: Type.String(),
    createdAt: Type.String({ format: "date-time" }),
    expiresAt: Type.String({ format: "date-time" }),
    queuedAt: Time,
    sentAt: Time,
    deliveredAt: Time,
    respondedAt: Time,
    expiredAt: Time,
    failedAt: Time,
    /** Why it failed. */
    error: Type.Union([Type.String(), Type.Null()]),
    response: Type.Union([CommandResponse, Type.Null()]),
  },
  { $id: "Command" },
);
export type Command = Static<typeof Command>;

export const CommandAccepted = Type.Object({ id: Type.String(), status: CommandStatus }, { $id: "CommandAccepted" });
export type CommandAccepted = Static<typeof CommandAccepted>;

export const CommandListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: "Page size (default 20)" })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: "Commands to skip (default 0)" })),
  },
  { additionalProperties: false },
);
export type CommandListQuery = Static<typeof CommandListQuery>;

export const CommandList = Type.Object(
  { items: Type.Array(Command), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() },
  { $id: "CommandList" },
);
export type CommandList = Static<typeof CommandList>;

export const CommandParams = Type.Object({
  id: Type.String({ pattern: DEVICE_ID_PATTERN, description: "Device id" }),
  commandId: Type.String({ pattern: COMMAND_ID_PATTERN, description: "Command id" }),
});
export type CommandParams = Static<typeof CommandParams>;
