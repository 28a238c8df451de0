// Fleetwatch's MQTT topic conventions. Every topic the platform builds or parses goes
// through this module, so server, dashboard, simulator and tests agree on one layout:
//
//   devices/{deviceId}/telemetry     JSON object of readings
//   devices/{deviceId}/state         retained state document
//   devices/{deviceId}/status        presence, and the device's Last Will
//   devices/{deviceId}/commands/{commandId}            a command to the device (QoS 1, {"name","params"}; to an MQTT 5
//                                                      device with this Response Topic and the command id as Correlation Data)
//   devices/{deviceId}/commands/{commandId}/response   the device's answer (any payload; {"ok": boolean, ...} is understood)
//
// A device may use any other subtopic below its own devices/{deviceId}/.

export const DEVICE_ROOT = "devices";

export type DeviceChannel = "telemetry" | "state" | "status" | "commands" | "other";

/** Device ids are slugs: they appear in topics, so they can never contain `/`, `+` or `#`. */
export const DEVICE_ID_PATTERN = "^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$";
const deviceIdRegex = new RegExp(DEVICE_ID_PATTERN);

export function isValidDeviceId(id: string): boolean {
  return deviceIdRegex.test(id);
}

export const deviceTopic = {
  root: (deviceId: string) => `${DEVICE_ROOT}/${deviceId}`,
  telemetry: (deviceId: string) => `${DEVICE_ROOT}/${deviceId}/telemetry`,
  state: (deviceId: string) => `${DEVICE_ROOT}/${deviceId}/state`,
  status: (deviceId: string) => `${DEVICE_ROOT}/${deviceId}/status`,
  commands: (deviceId: string, command = "#") => `${DEVICE_ROOT}/${deviceId}/commands/${command}`,
  /** Where the platform sends one command, at QoS 1. */
  command: (deviceId: string, commandId: string) => `${DEVICE_ROOT}/${deviceId}/commands/${commandId}`,
  /** Where the device answers that command: the one topic under commands/ a device may publish to. */
  commandResponse: (deviceId: string, commandId: string) => `${DEVICE_ROOT}/${deviceId}/commands/${commandId}/response`,
  /** The filter covering everything a device owns. */
  all: (deviceId: string) => `${DEVICE_ROOT}/${deviceId}/#`,
};

export interface ParsedDeviceTopic {
  deviceId: string;
  channel: DeviceChannel;
  /** The levels below devices/{deviceId}/. */
  subtopic: string;
}

/** Parses a concrete (wildcard-free) topic under devices/; null for anything else. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const levels = topic.split("/");
  if (levels.length < 3 || levels[0] !== DEVICE_ROOT) return null;
  const deviceId = levels[1] as string;
  if (!isValidDeviceId(deviceId)) return null;
  const subtopic = levels.slice(2).join("/");
  if (subtopic === "" || subtopic.includes("+") || subtopic.includes("#")) return null;
  const first = levels[2];
  const channel: DeviceChannel =
    first === "telemetry" && levels.length === 3
      ? "telemetry"
      : first === "state" && levels.length === 3
        ? "state"
        : first === "status" && levels.length === 3
          ? "status"
          : first === "commands"
            ? "commands"
            : "other";
  return { deviceId, channel, subtopic };
}

/** Command ids are one topic level: letters, digits, `-` and `_` (the platform issues UUIDs). */
export const COMMAND_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$";
const commandIdRegex = new RegExp(COMMAND_ID_PATTERN);

export interface ParsedCommandTopic {
  deviceId: string;
  commandId: string;
  /** devices/{id}/commands/{commandId}/response rather than the command itself. */
  response: boolean;
}

/**
 * A command (`devices/{id}/commands/{commandId}`) or its response
 * (`.../{commandId}/response`); null for any other topic, deeper ones under commands/ included.
 */
export function parseCommandTopic(topic: string): ParsedCommandTopic | null {
  const levels = topic.split("/");
  if (levels.length !== 4 && levels.length !== 5) return null;
  const [root, deviceId, channel, commandId, last] = levels as [string, string, string, string, string | undefined];
  if (root !== DEVICE_ROOT || channel !== "commands" || !isValidDeviceId(deviceId) || !commandIdRegex.test(commandId)) return null;
  if (last !== undefined && last !== "response") return null;
  return { deviceId, commandId, response: last === "response" };
}

/**
 * The device whose namespace a subscription filter stays inside, or null: the filter must
 * name the device literally (`devices/pump-1/...`, never `devices/+/...`) and go below it.
 * `devices/pump-1/#` qualifies: it also matches the bare parent `devices/pump-1` [MQTT-4.7.1-2],
 * a topic no device can publish to (parseDeviceTopic refuses it), so it grants nothing more.
 */
export function deviceOfFilter(filter: string): string | null {
  if (!isValidTopicFilter(filter)) return null;
  const levels = filter.split("/");
  if (levels.length < 3 || levels[0] !== DEVICE_ROOT) return null;
  const deviceId = levels[1] as string;
  if (!isValidDeviceId(deviceId)) return null;
  if (levels.slice(2).join("/") === "") return null;
  return deviceId;
}

/**
 * Broker-internal control channel between the nodes of one deployment (carried by the
 * broker's mqemitter, which mqemitter-redis bridges). No MQTT client may publish or
 * subscribe to it; the gate refuses the `$fleetwatch/` prefix to everyone.
 */
export const CONTROL_PREFIX = "$fleetwatch/";
export const controlTopic = {
  /** payload: the device id; every node closes that device's live connection. */
  disconnect: `${CONTROL_PREFIX}control/disconnect`,
  /** payload: the device id; like disconnect, but its Last Will is discarded (the device was deleted). */
  forget: `${CONTROL_PREFIX}control/forget`,
  /**
   * payload: an operator's user id, whose credentials just changed (signed out, API token
   * revoked, role or password changed, account deleted): every node closes that operator's
   * MQTT connections and re-checks their dashboard live channels.
   */
  operator: `${CONTROL_PREFIX}control/operator`,
  /** payload: JSON {group, filter}; every node reloads that shared subscription's members. */
  shared: `${CONTROL_PREFIX}control/shared`,
  /**
   * payload: JSON { clientId, session: "keep" | "clear" }; the node holding that MQTT client
   * closes its connection and, for "clear", discards its session (GET /api/broker/clients).
   */
  disconnectClient: `${CONTROL_PREFIX}control/disconnect-client`,
};

/**
 * MQTT topic filter matching, as the broker does it [MQTT-4.7.1-2, MQTT-4.7.1-3]:
 * `+` matches exactly one level, `#` (last) matches the parent and any number of levels.
 * Topics starting with `$` are not matched by filters starting with a wildcard [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * MQTT's UTF-8 strings (topic names and filters, client ids, user names) must not contain
 * U+0000: a packet with one is a protocol violation [MQTT-1.5.3-2] (MQTT 5: [MQTT-1.5.4-2]).
 * PostgreSQL's text and jsonb cannot hold it either.
 */
export function hasNullCharacter(value: string): boolean {
  return value.includes("\u0000");
}

/**
 * A filter is valid when `#` appears only as the whole last level and `+` only as a whole level
 * [MQTT-4.7.1-2, MQTT-4.7.1-3], and it contains no U+0000 [MQTT-1.5.3-2].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || hasNullCharacter(filter)) return false;
  const levels = filter.split("/");
  return levels.every((level, i) =>
    level === "#" ? i === levels.length - 1 : level === "+" || (!level.includes("+") && !level.includes("#")),
  );
}

/** An MQTT 5 Shared Subscription's filter starts with this [MQTT-4.8.2-1]. */
export const SHARED_SUBSCRIPTION_PREFIX = "$share/";

export interface SharedFilter {
  /** The ShareName: the group whose members share the messages. */
  group: string;
  /** The topic filter inside, which the messages match. */
  filter: string;
}

export const isSharedFilter = (filter: string): boolean => filter.startsWith(SHARED_SUBSCRIPTION_PREFIX);

/**
 * `$share/{ShareName}/{filter}` split in two; null for any other filter and for a malformed
 * one: the ShareName must be at least one character long [MQTT-4.8.2-1], contain no "/", "+"
 * or "#", and be followed by "/" and a valid topic filter [MQTT-4.8.2-2].
 */
export function parseSharedFilter(filter: string): SharedFilter | null {
  if (!isSharedFilter(filter)) return null;
  const rest = filter.slice(SHARED_SUBSCRIPTION_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash < 1) return null;
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (group.includes("+") || group.includes("#") || hasNullCharacter(group) || !isValidTopicFilter(inner)) return null;
  return { group, filter: inner };
}

/**
 * Platform events (presence changes, alerts) are published by the server on the broker under
 * $fleetwatch/events/{kind}, as JSON matching events.ts. Topics starting with `$` are not
 * matched by wildcard filters [MQTT-4.7.2-1], so no device subscribing to `#` receives them;
 * server nodes (and the live browser channel) subscribe to PLATFORM_EVENTS_FILTER.
 */
export const PLATFORM_EVENTS_ROOT = "$fleetwatch/events";
export const PLATFORM_EVENTS_FILTER = `${PLATFORM_EVENTS_ROOT}/#`;
export const platformEventTopic = (kind: string) => `${PLATFORM_EVENTS_ROOT}/${kind}`;
