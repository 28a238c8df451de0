import { Type, type Static } from "typebox";

/** One retained message under a device's devices/{id}/ namespace: part of its current state. */
export const RetainedEntry = Type.Object(
  {
    topic: Type.String(),
    subtopic: Type.String({ description: "The topic levels below devices/{id}/, e.g. state" }),
    format: Type.Union([Type.Literal("json"), Type.Literal("text"), Type.Literal("base64")], {
      description: "json: payload is the parsed JSON value; text: a UTF-8 string; base64: bytes that are not UTF-8",
    }),
    payload: Type.Unknown(),
    updatedAt: Type.String({ format: "date-time", description: "When the broker stored it" }),
  },
  { $id: "RetainedEntry" },
);
export type RetainedEntry = Static<typeof RetainedEntry>;

/** GET /api/devices/:id/state: the retained messages of a device, by topic. */
export const DeviceState = Type.Object(
  {
    deviceId: Type.String(),
    retained: Type.Array(RetainedEntry),
  },
  { $id: "DeviceState" },
);
export type DeviceState = Static<typeof DeviceState>;

/** Most retained messages one GET /api/retained answer may list. */
export const MAX_RETAINED_LIMIT = 1_000;
export const DEFAULT_RETAINED_LIMIT = 200;

/** GET /api/retained: the retained messages whose topics match an MQTT topic filter. */
export const RetainedQuery = Type.Object(
  {
    topic: Type.String({ minLength: 1, maxLength: 1024, description: "MQTT topic filter; + matches one level, # the rest" }),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_RETAINED_LIMIT,
        description: `Most entries returned, by topic (default ${DEFAULT_RETAINED_LIMIT})`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type RetainedQuery = Static<typeof RetainedQuery>;

export const RetainedList = Type.Object(
  {
    retained: Type.Array(RetainedEntry, { description: "Sorted by topic" }),
    truncated: Type.Boolean({ description: "More retained messages match than `limit`" }),
  },
  { $id: "RetainedList" },
);
export type RetainedList = Static<typeof RetainedList>;
