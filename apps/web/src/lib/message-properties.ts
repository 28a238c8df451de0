// MQTT 5 message properties as label/value lines, for every place that shows a message (the
// topic explorer, a device's recent messages). Correlation data is binary: it arrives as
// base64 and is shown so, labelled as such.
import type { MessageProperties } from "@fleetwatch/contracts";

export interface PropertyLine {
  label: string;
  value: string;
}

export function propertyLines(properties: MessageProperties | undefined): PropertyLine[] {
  if (!properties) return [];
  const lines: PropertyLine[] = [];
  if (properties.contentType !== undefined) lines.push({ label: "Content type", value: properties.contentType });
  if (properties.payloadFormatIndicator !== undefined)
    lines.push({ label: "Payload format", value: properties.payloadFormatIndicator ? "UTF-8 text" : "unspecified bytes" });
  if (properties.responseTopic !== undefined) lines.push({ label: "Response topic", value: properties.responseTopic });
  if (properties.correlationData !== undefined) lines.push({ label: "Correlation data (base64)", value: properties.correlationData });
  if (properties.messageExpiryInterval !== undefined)
    lines.push({ label: "Expires after", value: `${properties.messageExpiryInterval} s` });
  for (const { name, value } of properties.userProperties ?? []) lines.push({ label: `User property ${name}`, value });
  return lines;
}
