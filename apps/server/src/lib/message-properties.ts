// MQTT 5 PUBLISH properties between the wire (mqtt-packet's shape, as aedes hands them over)
// and the contract's MessageProperties (the message log, the API, the live channel). One
// mapping for all of them, so the log and the live view can never disagree.
import type { MessageProperties, UserProperty } from "@fleetwatch/contracts";

/** The PUBLISH properties as mqtt-packet decodes them (MQTT 5, section 3.3.2.3). */
export interface WirePublishProperties {
  payloadFormatIndicator?: boolean | number | undefined;
  messageExpiryInterval?: number | undefined;
  topicAlias?: number | undefined;
  responseTopic?: string | undefined;
  correlationData?: Buffer | Uint8Array | string | undefined;
  userProperties?: Record<string, string | string[] | undefined> | undefined;
  subscriptionIdentifier?: number | number[] | undefined;
  contentType?: string | undefined;
}

/**
 * The message's own properties, or undefined when it carries none (every MQTT 3.1.1 message).
 * Topic Alias and Subscription Identifier describe one hop, not the message, and are dropped.
 */
export function messagePropertiesOf(wire: WirePublishProperties | undefined | null): MessageProperties | undefined {
  if (!wire) return undefined;
  const properties: MessageProperties = {};
  if (wire.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = Boolean(wire.payloadFormatIndicator);
  if (typeof wire.contentType === "string") properties.contentType = wire.contentType;
  if (typeof wire.responseTopic === "string") properties.responseTopic = wire.responseTopic;
  if (wire.correlationData !== undefined) properties.correlationData = Buffer.from(wire.correlationData).toString("base64");
  if (typeof wire.messageExpiryInterval === "number" && Number.isInteger(wire.messageExpiryInterval) && wire.messageExpiryInterval >= 0)
    properties.messageExpiryInterval = wire.messageExpiryInterval;
  const userProperties = userPropertiesOf(wire.userProperties);
  if (userProperties.length > 0) properties.userProperties = userProperties;
  return Object.keys(properties).length > 0 ? properties : undefined;
}

function userPropertiesOf(wire: WirePublishProperties["userProperties"]): UserProperty[] {
  if (!wire) return [];
  const pairs: UserProperty[] = [];
  // mqtt-packet folds repeated names into an array, in the order they came [MQTT-3.3.2-18].
  for (const [name, value] of Object.entries(wire)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push({ name, value: String(one) });
  }
  return pairs;
}

/** The properties as the message log stores them (jsonb text), or null for none. */
export function storedProperties(properties: MessageProperties | undefined): string | null {
  return properties ? JSON.stringify(properties) : null;
}
