// HTTP contracts of the device registry: /api/devices.
import { Type, type Static } from "typebox";
import { DEVICE_ID_PATTERN } from "./topics.ts";

export const DeviceId = Type.String({
  pattern: DEVICE_ID_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: "Readable slug: lower-case letters, digits and inner dashes; also the MQTT clientId and username",
});
const Tag = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: "^[^\\s,;]+$",
  description: "A label without spaces, commas or semicolons",
});
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2_000 });
const Tags = Type.Array(Tag, { maxItems: 50 });

export const DeviceStatus = Type.Union([Type.Literal("online"), Type.Literal("offline"), Type.Literal("never")], {
  description: "online: connected now; offline: seen before, not connected; never: never connected",
});
export type DeviceStatus = Static<typeof DeviceStatus>;

export const Device = Type.Object(
  {
    id: DeviceId,
    name: Type.String(),
    description: Type.String(),
    tags: Type.Array(Type.String()),
    disabled: Type.Boolean(),
    online: Type.Boolean(),
    status: DeviceStatus,
    lastSeenAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
    createdAt: Type.String({ format: "date-time" }),
    updatedAt: Type.String({ format: "date-time" }),
  },
  { $id: "Device" },
);
export type Device = Static<typeof Device>;

export const DeviceCreate = Type.Object(
  { name: Name, id: Type.Optional(DeviceId), description: Type.Optional(Description), tags: Type.Optional(Tags) },
  { additionalProperties: false, $id: "DeviceCreate" },
);
export type DeviceCreate = Static<typeof DeviceCreate>;

export const DeviceUpdate = Type.Object(
  { name: Type.Optional(Name), description: Type.Optional(Description), tags: Type.Optional(Tags) },
  { additionalProperties: false, minProperties: 1, $id: "DeviceUpdate" },
);
export type DeviceUpdate = Static<typeof DeviceUpdate>;

export const DeviceCredentials = Type.Object(
  {
    clientId: Type.String(),
    username: Type.String(),
    password: Type.String({ description: "Shown once: only a hash is stored" }),
  },
  { $id: "DeviceCredentials" },
);
export type DeviceCredentials = Static<typeof DeviceCredentials>;

/** Where devices connect: answered with new credentials and by GET /api/broker/endpoints. */
export const DeviceEndpoints = Type.Object(
  {
    mqtt: Type.String({ description: "mqtt://host:port" }),
    mqtts: Type.Optional(Type.String({ description: "mqtts://host:port, when TLS is configured" })),
    ws: Type.String({ description: "MQTT over WebSocket" }),
  },
  { $id: "DeviceEndpoints" },
);
export type DeviceEndpoints = Static<typeof DeviceEndpoints>;

/** A device with its freshly issued credentials: answered by create, import and rotate. */
export const DeviceWithCredentials = Type.Object(
  { device: Device, credentials: DeviceCredentials, endpoints: DeviceEndpoints },
  { $id: "DeviceWithCredentials" },
);
export type DeviceWithCredentials = Static<typeof DeviceWithCredentials>;

export const DeviceListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: "Substring of the id or name (case-insensitive)" })),
    tag: Type.Optional(Tag),
    status: Type.Optional(DeviceStatus),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: "Page size (default 50)" })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: "Devices to skip (default 0)" })),
  },
  { additionalProperties: false },
);
export type DeviceListQuery = Static<typeof DeviceListQuery>;

export const DeviceList = Type.Object(
  { items: Type.Array(Device), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() },
  { $id: "DeviceList" },
);
export type DeviceList = Static<typeof DeviceList>;

/** GET /api/devices/tags: the tags in use, most used first (suggestions when tagging a device). */
export const DeviceTagList = Type.Object(
  { items: Type.Array(Type.Object({ tag: Type.String(), devices: Type.Integer() })) },
  { $id: "DeviceTagList" },
);
export type DeviceTagList = Static<typeof DeviceTagList>;

/** `/devices/:id` and everything below it: an id that is not a device id is refused before any lookup. */
export const DeviceParams = Type.Object({ id: Type.String({ pattern: DEVICE_ID_PATTERN, description: "Device id" }) });
export type DeviceParams = Static<typeof DeviceParams>;

/** POST /api/devices/import with application/json: the rows (or `{devices: rows}`). CSV: a header line with name,id,description,tags (tags separated by ";"). */
export const DeviceImportJson = Type.Union([Type.Array(Type.Unknown()), Type.Object({ devices: Type.Array(Type.Unknown()) })]);

export const ImportRowError = Type.Object({
  row: Type.Integer({ description: "1-based data row (for CSV, the header is row 0)" }),
  field: Type.Optional(Type.String()),
  message: Type.String(),
});
export type ImportRowError = Static<typeof ImportRowError>;

export const DeviceImportResult = Type.Object({ created: Type.Array(DeviceWithCredentials) }, { $id: "DeviceImportResult" });
export type DeviceImportResult = Static<typeof DeviceImportResult>;

/** POST /api/devices/import?dryRun=true: what the import would do; nothing is written. */
export const DeviceImportPreview = Type.Object(
  {
    rows: Type.Array(
      Type.Object({
        row: Type.Integer(),
        name: Type.Optional(Type.String()),
        id: Type.Optional(Type.String()),
        description: Type.Optional(Type.String()),
        tags: Type.Optional(Type.Array(Type.String())),
      }),
    ),
    errors: Type.Array(ImportRowError),
    /** No errors: importing these rows would create every device. */
    importable: Type.Boolean(),
  },
  { $id: "DeviceImportPreview" },
);
export type DeviceImportPreview = Static<typeof DeviceImportPreview>;

export const DeviceImportQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ description: "Check the rows and answer a preview (200); nothing is written" })) },
  { additionalProperties: false },
);

export const DeviceImportError = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String(),
    message: Type.String(),
    code: Type.Optional(Type.String()),
    errors: Type.Array(ImportRowError),
  },
  { $id: "DeviceImportError" },
);
export type DeviceImportError = Static<typeof DeviceImportError>;
